#if canImport(Glibc)
import Glibc
#endif
import NetStoreClient
import NetStoreCore

/// Open files: reads through the block cache, writes into the write-back area,
/// commits on flush, fsync and release.
extension NetStoreVFS {
    public struct Opened: Sendable, Hashable {
        public var handle: UInt64
        /// The content is the version the kernel's page cache holds: keep it.
        public var keepCache: Bool

        public init(handle: UInt64, keepCache: Bool) {
            self.handle = handle
            self.keepCache = keepCache
        }
    }

    /// Opens a regular file. O_TRUNC (which libfuse passes here, atomically)
    /// empties it locally; the empty content is committed on flush.
    public func open(_ inode: UInt64, flags: Int32) async throws(NetStoreError) -> Opened {
        let writable = flags & O_ACCMODE != O_RDONLY
        let truncate = writable && flags & O_TRUNC != 0
        let node = inodes.node(of: inode)
        // Its commits' answers are shown as they come.
        await settleUnlinks(of: node)
        let file: OpenFile
        if let existing = retainOpenFile(inode) ?? reopenStaged(inode) {
            file = existing
            do {
                try await refresh(existing)
            } catch {
                await releaseOpenFile(inode)
                throw error
            }
        } else {
            let content: FileContent
            if truncate {
                // Its blocks are about to be dropped: no need to fetch the list.
                let attributes = try await client.getattr(node)
                guard attributes.kind == .file else { throw Self.notAFile(attributes) }
                content = FileContent(version: attributes.version, size: attributes.size, blocks: [])
            } else {
                let fetched = try await client.getContentInline(node)
                content = fetched.content
                // A small file's block came with its content: reading it needs no request.
                if let bytes = fetched.block { blocks.insert(content.blocks[0], bytes: bytes) }
            }
            file = registerOpenFile(OpenFile(inode: inode, node: node, content: content, writeBackDirectory: writeBackDirectory))
        }
        if truncate {
            do {
                try await file.lock.run { () async throws(NetStoreError) in
                    try await file.truncate(to: 0, cache: blocks, now: Self.now())
                }
            } catch {
                await releaseOpenFile(inode)
                throw error
            }
        }
        let version = file.snapshot.base.version
        let result = tables.withLock { tables -> Opened in
            let number = tables.nextHandle
            tables.nextHandle += 1
            tables.handles[number] = .file(file, flags: flags)
            let keep = tables.seenVersions[inode] == version && !truncate
            tables.seenVersions[inode] = version
            return Opened(handle: number, keepCache: keep)
        }
        return result
    }

    /// Creates and opens a regular file owned by the caller. Without O_EXCL an
    /// existing file (made meanwhile by someone else) is opened instead.
    ///
    /// With `createAtClose`, where the name is known to be free, the server makes
    /// the file at its first close instead (NetStoreVFS+MadeAtClose): O_EXCL then
    /// holds among this mount's callers at once, and against other clients at
    /// that close.
    public func create(parent: UInt64, name: String, mode: UInt32, flags: Int32, context: RequestContext) async throws(NetStoreError) -> (attributes: NodeAttributes, opened: Opened) {
        let raw: NodeAttributes
        let parentNode = inodes.node(of: parent)
        // Only where the name is known to be free (a listing said so within the
        // timeout; with a live watch, a name made elsewhere is told at once).
        if configuration.createAtClose, entries.find(parent: parentNode, name: name) == .absent,
           unmadeFile(parent: parentNode, name: name) == nil {
            return try createAtClose(parent: parentNode, name: name, mode: mode, flags: flags, context: context)
        }
        await makeUnmadeFiles()
        await settleRemoval(parent: parentNode, name: name)
        do {
            raw = try await client.create(
                parent: parentNode, name: name, mode: mode & 0o7777, uid: context.uid, gid: context.gid)
            entries.added(parent: parentNode, name: name, node: raw.id)
            directoryGained(parentNode, raw)
        } catch {
            // EEXIST: someone else made it meanwhile; whatever the error, ask the server next time.
            entries.forget(parent: parentNode, name: name)
            directoryChanged(parent)
            guard error.code == .exists && flags & O_EXCL == 0 else { throw error }
            let existing = try await lookup(parent: parent, name: name)
            do {
                return (existing, try await open(existing.id, flags: flags))
            } catch {
                forget(existing.id, count: 1)
                throw error
            }
        }
        let inode = inodes.inode(of: raw.id)
        let content = FileContent(version: raw.version, size: 0, blocks: [])
        let file = registerOpenFile(OpenFile(inode: inode, node: raw.id, content: content, writeBackDirectory: writeBackDirectory))
        let opened = tables.withLock { tables -> Opened in
            let number = tables.nextHandle
            tables.nextHandle += 1
            tables.handles[number] = .file(file, flags: flags)
            tables.seenVersions[inode] = raw.version
            return Opened(handle: number, keepCache: false)
        }
        return (entry(raw, .changedHere), opened)
    }

    public func read(_ inode: UInt64, handle number: UInt64, offset: UInt64, count: Int) async throws(NetStoreError) -> [UInt8] {
        let (file, _) = try openFile(handle: number)
        return try await file.read(at: offset, count: count, cache: blocks, readAhead: configuration.readAheadBlocks)
    }

    /// Writes into the local write-back area; returns the bytes written.
    /// O_APPEND writes go to the end as this mount knows it.
    public func write(_ inode: UInt64, handle number: UInt64, offset: UInt64, bytes: [UInt8]) async throws(NetStoreError) -> Int {
        let (file, flags) = try openFile(handle: number)
        guard flags & O_ACCMODE != O_RDONLY else { throw NetStoreError(.badHandle, "handle \(number) is not open for writing") }
        try await file.lock.run { () async throws(NetStoreError) in
            let at = flags & O_APPEND != 0 ? file.snapshot.size : offset
            try await file.write(bytes, at: at, cache: blocks, now: Self.now())
            file.startEarlyUploads(
                completedBy: at..<(at + UInt64(bytes.count)), client: client, cache: blocks, limit: configuration.earlyUploads)
        }
        return bytes.count
    }

    /// close(2): returns only when the file's changes are committed.
    public func flush(_ inode: UInt64, handle number: UInt64) async throws(NetStoreError) {
        let (file, _) = try openFile(handle: number)
        try await commit(file)
    }

    /// Returns once the file is on the cluster: in write-back mode, with every
    /// file staged before it.
    public func fsync(_ inode: UInt64, handle number: UInt64) async throws(NetStoreError) {
        let (file, _) = try openFile(handle: number)
        try await commit(file)
        if isStaged(file.inode) {
            try await file.lock.run { () async throws(NetStoreError) in try await awaitStaged(file) }
        }
    }

    /// The last close of a handle: commits what is left (writes through a
    /// mapping may arrive after flush) and forgets the handle.
    public func release(_ inode: UInt64, handle number: UInt64) async throws(NetStoreError) {
        let (file, _) = try openFile(handle: number)
        var failure: NetStoreError?
        do {
            try await commit(file)
        } catch {
            logger.error("changes to a file could not be saved at its last close",
                         metadata: ["node": "\(file.node)", "error": "\(error)"])
            failure = error
        }
        _ = tables.withLock { $0.handles.removeValue(forKey: number) }
        await releaseOpenFile(file.inode)
        if let failure { throw failure }
    }

    /// Close-to-open for a file already open here: with no local changes, a
    /// new open sees the version now on the server.
    private func refresh(_ file: OpenFile) async throws(NetStoreError) {
        try await file.lock.run { () async throws(NetStoreError) in
            // Not made on the server yet: this mount holds all there is of it.
            guard !file.snapshot.needsCommit, file.creation == nil else { return }
            let content = try await client.getContent(file.node)
            try file.rebase(on: content)
        }
    }

    // MARK: - Committing

    func commit(_ file: OpenFile) async throws(NetStoreError) {
        _ = try await file.lock.run { () async throws(NetStoreError) -> NodeAttributes? in
            try await commitLocked(file)
        }
    }

    /// Commits under the file's lock. A file deleted meanwhile has nowhere to
    /// go: as on a local disk, its data goes with it.
    func commitLocked(_ file: OpenFile) async throws(NetStoreError) -> NodeAttributes? {
        do {
            if file.creation != nil, isStaged(file.inode) {
                // Staged at an earlier close: only changes since need the server, once it has made the file.
                guard file.snapshot.needsCommit else { return nil }
                try await awaitStaged(file)
            }
            if let creation = file.creation {
                if file.fitsInline(limit: configuration.inlineCommitLimit) {
                    if await stageLocked(file, creation) { return nil }
                    let made = try await makeWithContentLocked(file, creation)
                    attributes.changedHere(made)
                    return made
                }
                try await makeLocked(file)
            }
            guard let committed = try await file.commit(
                client: client, cache: blocks, parallelism: configuration.uploadParallelism,
                inlineLimit: configuration.inlineCommitLimit) else { return nil }
            attributes.changedHere(committed)
            tables.withLock { $0.seenVersions[file.inode] = committed.version }
            return committed
        } catch where error.code == .noEntry {
            logger.debug("changes to a deleted file dropped", metadata: ["node": "\(file.node)"])
            // A new file whose directory is gone: never to be made.
            if file.creation != nil { dropUnmade(file) }
            file.state.withLock { state in
                state.dirty = []
                state.base.size = state.size
                state.validBase = state.size
            }
            return nil
        }
    }

    // MARK: - The open-file registry

    private func openFile(handle number: UInt64) throws(NetStoreError) -> (OpenFile, Int32) {
        guard case .file(let file, let flags) = try handle(number) else {
            throw NetStoreError(.isDirectory, "handle \(number) is a directory")
        }
        return (file, flags)
    }

    private func retainOpenFile(_ inode: UInt64) -> OpenFile? {
        tables.withLock { tables in
            guard let entry = tables.files[inode] else { return nil }
            tables.files[inode] = (entry.file, entry.handles + 1)
            return entry.file
        }
    }

    /// A staged file closed by every handle, opened again: still this mount's
    /// own until the server makes it, with one handle now.
    private func reopenStaged(_ inode: UInt64) -> OpenFile? {
        guard let file = unmadeFile(inode) else { return nil }
        return registerOpenFile(file)
    }

    /// Adds `file` with one handle, or, if another open won the race, one more handle on theirs.
    private func registerOpenFile(_ file: OpenFile) -> OpenFile {
        tables.withLock { tables in
            if let entry = tables.files[file.inode] {
                tables.files[file.inode] = (entry.file, entry.handles + 1)
                return entry.file
            }
            tables.files[file.inode] = (file, 1)
            return file
        }
    }

    /// Drops one handle; the last one of a file without a visible name deletes it.
    private func releaseOpenFile(_ inode: UInt64) async {
        let (hidden, unmade) = tables.withLock { tables -> (String?, Bool) in
            guard let entry = tables.files[inode] else { return (nil, false) }
            if entry.handles <= 1 {
                tables.files.removeValue(forKey: inode)
                // A staged file stays one this mount made until the server has made it.
                let unmade = !isStaged(inode) && tables.removeUnmade(inode)
                return (tables.unlinked.removeValue(forKey: inode), unmade)
            }
            tables.files[inode] = (entry.file, entry.handles - 1)
            return (nil, false)
        }
        if unmade {
            // Its last close could not make it: it is gone, and so is what was cached of it.
            unmadeCount.subtract(1, ordering: .releasing)
            attributes.remove(inode)
        }
        if let hidden { await removeHidden(hidden) }
    }

    static func notAFile(_ attributes: NodeAttributes) -> NetStoreError {
        attributes.kind == .directory
            ? NetStoreError(.isDirectory, "inode \(attributes.id) is a directory")
            : NetStoreError(.invalid, "inode \(attributes.id) is not a regular file")
    }
}
