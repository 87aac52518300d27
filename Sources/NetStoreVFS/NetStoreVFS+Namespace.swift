import NetStoreClient
import NetStoreCore

/// Names and attributes: each call is one request to the server (or none, from the caches).
extension NetStoreVFS {
    public func lookup(parent: UInt64, name: String) async throws(NetStoreError) -> NodeAttributes {
        if let unmade = unmadeFile(parent: inodes.node(of: parent), name: name) {
            // Staged: what it is was settled at its close, and this mount tells it.
            if isStaged(unmade.inode), let creation = unmade.creation { return entry(creation.attributes, .changedHere) }
            try await unmade.lock.run { () async throws(NetStoreError) in try await makeLocked(unmade) }
        }
        if let cached = try cachedLookup(parent: parent, name: name) { return cached }
        let node = inodes.node(of: parent)
        if entries.missed(parent: node) {
            await listAhead(node)
            if let cached = try cachedLookup(parent: parent, name: name) { return cached }
        }
        let seen = entries.seen
        let (found, stamp) = try await currentAnswer { [client] () async throws(NetStoreError) in
            try await client.lookup(parent: node, name: name)
        }
        entries.put(parent: node, name: name, node: found.id, seen: seen)
        return entry(found, .answer(asOf: stamp))
    }

    /// The answer to `request` (a getattr or lookup) and the attribute
    /// cache's stamp it was asked at, asked again (twice at most) while an
    /// unlink made here may be missing from it (`mayMissUnlink`).
    func currentAnswer(
        _ request: () async throws(NetStoreError) -> NodeAttributes
    ) async throws(NetStoreError) -> (attributes: NodeAttributes, stamp: UInt64) {
        var tries = 0
        while true {
            let stamp = attributes.stamp
            let answer = try await request()
            tries += 1
            if tries == 3 { return (answer, stamp) }
            if await !mayMissUnlink(answer.id, asOf: stamp) { return (answer, stamp) }
        }
    }

    /// `node`'s attributes from the server, as `currentAnswer`.
    func currentAttributes(_ node: NodeID) async throws(NetStoreError) -> (attributes: NodeAttributes, stamp: UInt64) {
        try await currentAnswer { [client] () async throws(NetStoreError) in try await client.getattr(node) }
    }

    /// Reads the first page of `directory`'s listing into the caches: names
    /// and attributes, and, when that is all of it, which names are not there.
    /// A failure only leaves the lookups to ask one by one.
    func listAhead(_ directory: NodeID) async {
        let seen = entries.seen
        let stamp = attributes.stamp
        guard let page = try? await client.readdir(directory) else { return }
        // One whose unlink is staged here is left for a lookup to ask.
        for entry in page.entries where staging?.isUnlinkPending(of: entry.attributes.id) != true {
            attributes.put(entry.attributes, asOf: stamp)
        }
        entries.listed(parent: directory, names: page.entries.map { ($0.name, $0.attributes.id) },
                       complete: page.isLast, seen: seen)
    }

    /// `lookup`'s answer when this layer's caches hold it, found without waiting
    /// (so the FUSE layer can reply on its own thread): the entry (the kernel then
    /// holds one more lookup), or `.noEntry` thrown; nil when only the server knows.
    public func cachedLookup(parent: UInt64, name: String) throws(NetStoreError) -> NodeAttributes? {
        try NameRules.validateEntryName(name)
        let node = inodes.node(of: parent)
        if isHidden(parent: node, name: name) { throw NetStoreError(.noEntry, "\(name) is not there") }
        // A file not made yet: `lookup` has the server make it first.
        if unmadeFile(parent: node, name: name) != nil { return nil }
        // Removed here, not yet on the server (write-back mode).
        if isRemovalStaged(parent: node, name: name) { throw NetStoreError(.noEntry, "\(name) is not there") }
        switch entries.find(parent: node, name: name) {
        case .node(let child):
            return attributes.get(child).map { entry($0, .cache) }
        case .absent:
            throw NetStoreError(.noEntry, "\(name) is not there")
        case .unknown:
            return nil
        }
    }

    public func getattr(_ inode: UInt64) async throws(NetStoreError) -> NodeAttributes {
        if let cached = cachedGetattr(inode) { return cached }
        if let creation = unmadeFile(inode)?.creation { return present(creation.attributes, .changedHere) }
        let (answer, stamp) = try await currentAttributes(inodes.node(of: inode))
        return present(answer, .answer(asOf: stamp))
    }

    /// `getattr`'s answer when the attribute cache holds it, found without waiting; else nil.
    public func cachedGetattr(_ inode: UInt64) -> NodeAttributes? {
        attributes.get(inodes.node(of: inode)).map { present($0, .cache) }
    }

    /// Changes attributes. A size change of an open file is made in its
    /// write-back area and committed at once; any other change to a file with
    /// uncommitted writes commits them first, so that the change (a set mtime,
    /// say) applies after them.
    public func setattr(_ inode: UInt64, _ changes: SetAttributes) async throws(NetStoreError) -> NodeAttributes {
        try await makeUnmadeFile(inode)
        let node = inodes.node(of: inode)
        await settleUnlinks(of: node)
        attributes.remove(node)
        guard let file = openFile(inode) else {
            return present(try await client.setattr(node, changes), .changedHere)
        }
        let committed = try await file.lock.run { () async throws(NetStoreError) -> NodeAttributes? in
            if let size = changes.size {
                try await file.truncate(to: size, cache: blocks, now: Self.now())
            }
            return try await commitLocked(file)
        }
        var rest = changes
        rest.size = nil
        if rest == SetAttributes() {
            if let committed { return present(committed, .changedHere) }
            let (answer, stamp) = try await currentAttributes(node)
            return present(answer, .answer(asOf: stamp))
        }
        return present(try await client.setattr(node, rest), .changedHere)
    }

    public func readlink(_ inode: UInt64) async throws(NetStoreError) -> String {
        try await client.readlink(inodes.node(of: inode))
    }

    /// Regular files, fifos, sockets and device nodes (`rdev` is a device's number).
    /// The kernel has already checked that the caller may make a device node
    /// (CAP_MKNOD, with `default_permissions`); the store does not.
    public func mknod(
        parent: UInt64, name: String, kind: NodeKind, mode: UInt32, rdev: UInt64 = 0, context: RequestContext
    ) async throws(NetStoreError) -> NodeAttributes {
        guard kind != .directory && kind != .symlink else {
            throw NetStoreError(.notPermitted, "\(name): mknod does not make directories or symlinks")
        }
        try await makeUnmadeFile(parent: parent, name: name)
        return try await made(in: parent, name: name) { [client, inodes] () async throws(NetStoreError) in
            try await client.mknod(
                parent: inodes.node(of: parent), name: name, kind: kind, mode: mode & 0o7777,
                uid: context.uid, gid: context.gid, rdev: kind.isDevice ? rdev : 0)
        }
    }

    public func mkdir(parent: UInt64, name: String, mode: UInt32, context: RequestContext) async throws(NetStoreError) -> NodeAttributes {
        try await makeUnmadeFile(parent: parent, name: name)
        let made = try await made(in: parent, name: name) { [client, inodes] () async throws(NetStoreError) in
            try await client.mkdir(
                parent: inodes.node(of: parent), name: name, mode: mode & 0o7777, uid: context.uid, gid: context.gid)
        }
        entries.madeDirectory(inodes.node(of: made.id))
        return made
    }

    public func symlink(parent: UInt64, name: String, target: String, context: RequestContext) async throws(NetStoreError) -> NodeAttributes {
        try await makeUnmadeFile(parent: parent, name: name)
        return try await made(in: parent, name: name) { [client, inodes] () async throws(NetStoreError) in
            try await client.symlink(
                parent: inodes.node(of: parent), name: name, target: target, uid: context.uid, gid: context.gid)
        }
    }

    public func link(_ inode: UInt64, newParent: UInt64, newName: String) async throws(NetStoreError) -> NodeAttributes {
        try await makeUnmadeFile(inode)
        try await makeUnmadeFile(parent: newParent, name: newName)
        await settleUnlinks(of: inodes.node(of: inode))
        attributes.remove(inodes.node(of: inode))
        return try await made(in: newParent, name: newName) { [client, inodes] () async throws(NetStoreError) in
            try await client.link(inodes.node(of: inode), newParent: inodes.node(of: newParent), newName: newName)
        }
    }

    /// Runs a request that makes `name` in `parent` and hands the kernel its entry.
    func made(
        in parent: UInt64, name: String, _ request: () async throws(NetStoreError) -> NodeAttributes
    ) async throws(NetStoreError) -> NodeAttributes {
        let node = inodes.node(of: parent)
        let raw: NodeAttributes
        do {
            raw = try await request()
        } catch {
            // EEXIST: someone else made it meanwhile; whatever the error, ask the server next time.
            entries.forget(parent: node, name: name)
            directoryChanged(parent)
            throw error
        }
        entries.added(parent: node, name: name, node: raw.id)
        directoryGained(node, raw)
        return entry(raw, .changedHere)
    }

    /// `parent` gained an entry for `child`: the server set the directory's
    /// mtime and ctime to the time it gave the child's ctime, and a
    /// subdirectory adds a link. Cached attributes of the parent follow, so the
    /// kernel's next permission check on it needs no request.
    func directoryGained(_ parent: NodeID, _ child: NodeAttributes) {
        attributes.update(parent) { directory in
            directory.mtimeNs = child.ctimeNs
            directory.ctimeNs = child.ctimeNs
            if child.kind == .directory { directory.nlink += 1 }
        }
    }

    /// Removes a name; a file open here keeps working until its last close.
    /// In write-back mode the removal of a file not open here is journaled and
    /// sent later (NetStoreVFS+WriteBack).
    public func unlink(parent: UInt64, name: String) async throws(NetStoreError) {
        try await makeUnmadeFile(parent: parent, name: name)
        let node = inodes.node(of: parent)
        if isHidden(parent: node, name: name) { throw NetStoreError(.notPermitted, "\(name) is NetStore's own") }
        if staging != nil, case .node(let child) = entries.find(parent: node, name: name),
           openFile(inodes.inode(of: child)) == nil, stageRemoval(parent: node, name: name, child: child) {
            return
        }
        try await removing(parent: node, name: name) { () async throws(NetStoreError) -> NodeAttributes? in
            if try await hideIfOpen(parent: node, name: name) != nil { return nil }
            return try await client.unlink(parent: node, name: name)
        }
    }

    /// In write-back mode the removal of a directory this mount knows to be
    /// empty (listed, and each name since removed) is journaled and sent later.
    public func rmdir(parent: UInt64, name: String) async throws(NetStoreError) {
        let node = inodes.node(of: parent)
        if staging != nil, !isHidden(parent: node, name: name),
           case .node(let child) = entries.find(parent: node, name: name), entries.isKnownEmpty(child),
           stageRemoval(parent: node, name: name, child: child, isDirectory: true) {
            return
        }
        await makeUnmadeFiles()
        await settleStaged()
        try await removing(parent: node, name: name) { [client] () async throws(NetStoreError) -> NodeAttributes? in
            try await client.rmdir(parent: node, name: name)
        }
    }

    /// Runs a request that removes `name` from `parent` and returns the
    /// parent's attributes after it (nil: not known); the removed node's cached
    /// attributes (times, link count) are stale then. When that node is not
    /// known, no cached attributes are trusted.
    private func removing(parent: NodeID, name: String, _ request: () async throws(NetStoreError) -> NodeAttributes?) async throws(NetStoreError) {
        let directory: NodeAttributes?
        do {
            directory = try await request()
        } catch {
            entries.forget(parent: parent, name: name)
            attributes.removeAll()
            throw error
        }
        // The kernel asks for the directory's attributes next (it dropped its
        // own): the server's answer to the removal has them.
        if let directory { attributes.changedHere(directory) } else { attributes.remove(parent) }
        if let child = entries.removed(parent: parent, name: name) {
            // Answers asked before that still arriving have its old link count and ctime.
            attributes.outdate(child)
        } else {
            attributes.removeAll()
        }
    }

    /// Renames; a file open here that is renamed over keeps working until its last close.
    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, flags: RenameFlags) async throws(NetStoreError) {
        await makeUnmadeFiles()
        await settleStaged()
        let from = inodes.node(of: parent)
        let to = inodes.node(of: newParent)
        defer {
            attributes.removeAll()
            entries.forget(parent: from, name: name)
            entries.forget(parent: to, name: newName)
        }
        if isHidden(parent: from, name: name) || isHidden(parent: to, name: newName) {
            throw NetStoreError(.notPermitted, "\(Self.unlinkedDirectoryName) is NetStore's own")
        }
        var hidden: UInt64?
        if flags.isEmpty, !(from == to && name == newName), tables.withLock({ !$0.files.isEmpty }),
           let target = try? await client.lookup(parent: to, name: newName), target.kind == .file,
           openFile(inodes.inode(of: target.id)) != nil {
            // A hard link renamed over another name of the same file changes nothing;
            // a directory cannot replace a file (the server says so, with nothing hidden).
            let source = try await client.lookup(parent: from, name: name)
            if source.id != target.id, source.kind != .directory {
                hidden = try await hideIfOpen(parent: to, name: newName)
            }
        }
        do {
            try await client.rename(parent: from, name: name, newParent: to, newName: newName, flags: flags)
        } catch {
            if let hidden { await unhide(hidden, parent: to, name: newName) }
            throw error
        }
    }

    /// A directory gained or lost an entry: its cached times and size are stale.
    func directoryChanged(_ inode: UInt64) {
        attributes.remove(inodes.node(of: inode))
    }

    public func statfs() async throws(NetStoreError) -> FileSystemStats {
        try await client.statfs()
    }

    /// The kernel checks permissions itself (default_permissions); this only
    /// confirms that the node still exists.
    public func access(_ inode: UInt64) async throws(NetStoreError) {
        _ = try await getattr(inode)
    }

    // MARK: - Directories

    /// One item of a listing: "." and ".." carry only their inode and kind.
    public struct DirectoryItem: Sendable, Hashable {
        public var name: String
        public var attributes: NodeAttributes
        /// Pass back to `readdir` to continue after this item.
        public var offset: Int64
        public var isDot: Bool { name == "." || name == ".." }
    }

    public func opendir(_ inode: UInt64) async throws(NetStoreError) -> UInt64 {
        let attributes = try await getattr(inode)
        guard attributes.kind == .directory else { throw NetStoreError(.notDirectory, "inode \(inode) is not a directory") }
        let directory = DirectoryHandle(inode: inode, node: inodes.node(of: inode))
        return tables.withLock { tables in
            let number = tables.nextHandle
            tables.nextHandle += 1
            tables.handles[number] = .directory(directory)
            return number
        }
    }

    /// Items after `offset` (0 to start), at most `limit` of them. Does not
    /// count lookups: the caller calls `remember` for each entry it hands the
    /// kernel with its attributes (readdirplus).
    public func readdir(_ inode: UInt64, handle number: UInt64, offset: Int64, limit: Int) async throws(NetStoreError) -> [DirectoryItem] {
        guard case .directory(let directory) = try handle(number) else {
            throw NetStoreError(.badHandle, "handle \(number) is not a directory")
        }
        // A listing from the start shows the changes this mount has made in the directory.
        if offset == 0 {
            await makeUnmadeFiles(in: directory.node)
            await settleStaged(in: directory.node)
        }
        var items: [DirectoryItem] = []
        func dot(_ name: String, _ inode: UInt64, _ offset: Int64) -> DirectoryItem {
            DirectoryItem(name: name, attributes: NodeAttributes(
                id: inode, kind: .directory, mode: 0, uid: 0, gid: 0, nlink: 0, size: 0,
                atimeNs: 0, mtimeNs: 0, ctimeNs: 0, version: 0), offset: offset)
        }
        if offset < 1 { items.append(dot(".", directory.inode, 1)) }
        if offset < 2 { items.append(dot("..", directory.inode, 2)) }
        let wanted = limit - items.count
        guard wanted > 0 else { return items }
        let (listed, first, seen, stamp) = try await directory.entries(
            from: max(0, Int(offset) - 2), limit: wanted, client: client, restart: offset == 0,
            known: offset == 0 ? knownListing(directory.node) : nil, seen: entries.seen, stamp: attributes.stamp)
        // A later lookup of a name (stat after ls) needs no request: each page's
        // names are recorded, and once the listing is whole, that there are no others
        // (an rmdir after removing each can then be staged).
        let cached = directory.isCached
        var recordEach = !cached
        if let whole = directory.takeWholeListing() {
            entries.listed(parent: directory.node, names: whole.map { ($0.name, $0.attributes.id) }, complete: true, seen: seen)
            recordEach = false
        }
        for (i, entry) in listed.enumerated() where !isHidden(parent: directory.node, name: entry.name) {
            if recordEach { entries.put(parent: directory.node, name: entry.name, node: entry.attributes.id, seen: seen) }
            var shown = (attributes: entry.attributes, source: cached ? AttributeSource.cache : .answer(asOf: stamp))
            if !cached, await mayMissUnlink(entry.attributes.id, asOf: stamp),
               let fresh = try? await currentAttributes(entry.attributes.id) {
                shown = (fresh.attributes, .answer(asOf: fresh.stamp))
            }
            items.append(DirectoryItem(name: entry.name, attributes: present(shown.attributes, shown.source), offset: Int64(first + i + 3)))
        }
        return items
    }

    /// `directory`'s whole listing from the caches, when every name in it
    /// and each one's attributes are known there (a directory made or listed
    /// here within the timeout, as when `rm -rf` follows `mkdir -p` or `ls`);
    /// sorted by name, as the server lists.
    private func knownListing(_ directory: NodeID) -> [DirectoryEntry]? {
        guard let names = entries.knownListing(directory) else { return nil }
        var listing: [DirectoryEntry] = []
        listing.reserveCapacity(names.count)
        for (name, node) in names.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            guard let attributes = attributes.get(node) else { return nil }
            listing.append(DirectoryEntry(name: name, attributes: attributes, cookie: UInt64(listing.count + 1)))
        }
        return listing
    }

    public func releasedir(_ number: UInt64) {
        _ = tables.withLock { $0.handles.removeValue(forKey: number) }
    }
}
