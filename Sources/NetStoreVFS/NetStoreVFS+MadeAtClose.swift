import NetStoreClient
import NetStoreCore

/// Files made at close (docs/mount.md): a new file is made on the server at its
/// first flush, fsync or release, with its content in the same request when it
/// is small, so a small file costs one replicated change instead of two. Until
/// then it exists only in this mount, under a provisional inode number.
///
/// Anything that could see or change it other than through its handles (a
/// listing, a lookup of its name, a rename, an unlink, a setattr, a link, a
/// new entry of the same name) has the server make it first, so the rest of
/// this layer never meets a file the server lacks. A rename or rmdir, which
/// could move or empty a directory holding one, has the server make all.
extension NetStoreVFS {
    /// Opens `name` in `parent` as a new file that the server makes later.
    func createAtClose(parent: NodeID, name: String, mode: UInt32, flags: Int32, context: RequestContext) throws(NetStoreError) -> (attributes: NodeAttributes, opened: Opened) {
        try NameRules.validateEntryName(name)
        if isHidden(parent: parent, name: name) { throw NetStoreError(.notPermitted, "\(name) is NetStore's own") }
        let inode = inodes.newProvisionalInode()
        let now = Self.now()
        let raw = NodeAttributes(
            id: inode, kind: .file, mode: mode & 0o7777, uid: context.uid, gid: context.gid, nlink: 1, size: 0,
            atimeNs: now, mtimeNs: now, ctimeNs: now, version: 0)
        let file = OpenFile(
            inode: inode, node: inode, content: FileContent(version: 0, size: 0, blocks: []),
            writeBackDirectory: writeBackDirectory, creation: OpenFile.Creation(parent: parent, name: name, attributes: raw))
        let opened = tables.withLock { tables -> Opened in
            tables.files[inode] = (file, 1)
            tables.addUnmade(file)
            let number = tables.nextHandle
            tables.nextHandle += 1
            tables.handles[number] = .file(file, flags: flags)
            tables.seenVersions[inode] = raw.version
            return Opened(handle: number, keepCache: false)
        }
        unmadeCount.add(1, ordering: .releasing)
        // Known absent until now: the next lookup of the name asks (and makes the file first).
        entries.replaced(parent: parent, name: name)
        return (entry(raw, .changedHere), opened)
    }

    /// The file not yet made whose provisional inode is `inode`.
    func unmadeFile(_ inode: UInt64) -> OpenFile? {
        guard inode >= InodeTable.provisionalBase, unmadeCount.load(ordering: .acquiring) > 0 else { return nil }
        return tables.withLock { $0.unmade[inode] }
    }

    /// The file not yet made that is to be `name` in `parent`.
    func unmadeFile(parent: NodeID, name: String) -> OpenFile? {
        guard unmadeCount.load(ordering: .acquiring) > 0 else { return nil }
        return tables.withLock { $0.unmadeFile(parent: parent, name: name) }
    }

    /// Has the server make every file not yet made, or those to be made in
    /// `directory` (before a call that could see or change one). A file that
    /// cannot be made is logged and left to fail at its close, not charged to
    /// the call that came by.
    func makeUnmadeFiles(in directory: NodeID? = nil) async {
        guard unmadeCount.load(ordering: .acquiring) > 0 else { return }
        let files = tables.withLock { tables in
            tables.unmade.values.filter { file in directory.map { file.creation?.parent == $0 } ?? true }
        }
        for file in files {
            do {
                try await file.lock.run { () async throws(NetStoreError) in try await makeLocked(file) }
            } catch {
                logger.warning("a new file could not be made on the server", metadata: ["inode": "\(file.inode)", "error": "\(error)"])
            }
        }
    }

    /// Has the server make the file not yet made that is to be `name` in the
    /// directory of inode `parent`, if there is one, or remove that name if
    /// its removal is staged (before a call on that name).
    func makeUnmadeFile(parent: UInt64, name: String) async throws(NetStoreError) {
        await settleRemoval(parent: inodes.node(of: parent), name: name)
        guard let file = unmadeFile(parent: inodes.node(of: parent), name: name) else { return }
        try await file.lock.run { () async throws(NetStoreError) in try await makeLocked(file) }
    }

    /// Has the server make the file of `inode` if it is not made yet (before a call on it).
    func makeUnmadeFile(_ inode: UInt64) async throws(NetStoreError) {
        guard let file = unmadeFile(inode) else { return }
        try await file.lock.run { () async throws(NetStoreError) in try await makeLocked(file) }
    }

    /// Has the server make `file`, empty, if it has not yet (callers hold its lock).
    func makeLocked(_ file: OpenFile) async throws(NetStoreError) {
        if file.creation != nil, isStaged(file.inode) { return try await awaitStaged(file) }
        guard let creation = file.creation else { return }
        await settleRemoval(parent: creation.parent, name: creation.name)
        let made: NodeAttributes
        do {
            made = try await client.create(
                parent: creation.parent, name: creation.name, mode: creation.attributes.mode,
                uid: creation.attributes.uid, gid: creation.attributes.gid)
        } catch {
            throw Self.notMade(creation, error)
        }
        file.made(made)
        madeOnServer(file, creation, made)
    }

    /// Makes `file` with its whole content in one request (callers hold its lock).
    func makeWithContentLocked(_ file: OpenFile, _ creation: OpenFile.Creation) async throws(NetStoreError) -> NodeAttributes {
        await settleRemoval(parent: creation.parent, name: creation.name)
        let made: NodeAttributes
        do {
            made = try await file.createInline(creation, client: client, cache: blocks)
        } catch {
            throw Self.notMade(creation, error)
        }
        madeOnServer(file, creation, made)
        return made
    }

    /// The server made `file` as `made`: its provisional number stands for the node.
    func madeOnServer(_ file: OpenFile, _ creation: OpenFile.Creation, _ made: NodeAttributes) {
        inodes.resolve(file.inode, to: made.id)
        attributes.remove(file.inode)
        entries.added(parent: creation.parent, name: creation.name, node: made.id)
        directoryGained(creation.parent, made)
        let removed = tables.withLock { tables -> Bool in
            tables.seenVersions[file.inode] = made.version
            return tables.removeUnmade(file.inode)
        }
        if removed { unmadeCount.subtract(1, ordering: .releasing) }
    }

    /// `file` will not be made (its last handle is gone, or its directory is).
    func dropUnmade(_ file: OpenFile) {
        let removed = tables.withLock { $0.removeUnmade(file.inode) }
        if removed { unmadeCount.subtract(1, ordering: .releasing) }
        attributes.remove(file.inode)
    }

    private static func notMade(_ creation: OpenFile.Creation, _ error: NetStoreError) -> NetStoreError {
        guard error.code == .exists else { return error }
        return NetStoreError(
            .exists,
            "'\(creation.name)' was made elsewhere before this new file's first close, so the file could not be made: save its content under another name")
    }
}
