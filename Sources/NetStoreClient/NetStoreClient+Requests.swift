import NIOCore
import NetStoreCore
import NetStoreProtocol

/// One typed method per request. Each checks that the reply has the shape its
/// request calls for; anything else is a protocol error.
extension NetStoreClient {
    // MARK: Session and server

    public func ping() async throws(NetStoreError) {
        try await expectEmpty(.ping)
    }

    public func status() async throws(NetStoreError) -> ServerStatus {
        let response = try await send(.status)
        guard case .status(let status) = response else { throw unexpected(response, to: .status) }
        return status
    }

    /// Makes the connected server (a backup) primary; admin only.
    public func promote() async throws(NetStoreError) {
        try await expectEmpty(.promote)
    }

    /// Revokes the session's token on the server and closes the client.
    public func logout() async throws(NetStoreError) {
        try await expectEmpty(.logout)
        await close()
    }

    // MARK: Namespace

    public func lookup(parent: NodeID, name: String) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.lookup(parent: parent, name: name))
    }

    public func getattr(_ node: NodeID) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.getattr(node: node))
    }

    /// One page of a directory: the entries after `cookie` (0 for the first page).
    public func readdir(
        _ directory: NodeID, after cookie: UInt64 = 0, limit: Int = Limits.maxReaddirPage
    ) async throws(NetStoreError) -> DirectoryPage {
        precondition((1...Limits.maxReaddirPage).contains(limit), "readdir limit out of range")
        let response = try await send(.readdir(directory: directory, cookie: cookie, limit: UInt32(limit)))
        guard case .page(let page) = response else { throw unexpected(response, to: .readdir) }
        return page
    }

    /// Every entry of a directory, reading page after page.
    public func readdirAll(_ directory: NodeID) async throws(NetStoreError) -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        var cookie: UInt64 = 0
        while true {
            let page = try await readdir(directory, after: cookie)
            entries.append(contentsOf: page.entries)
            guard !page.isLast, let last = page.entries.last else { return entries }
            cookie = last.cookie
        }
    }

    public func mkdir(
        parent: NodeID, name: String, mode: UInt32 = 0o755,
        uid: UInt32 = LocalIdentity.uid, gid: UInt32 = LocalIdentity.gid
    ) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.mkdir(parent: parent, name: name, mode: mode, uid: uid, gid: gid))
    }

    /// Creates an empty regular file; EEXIST if the name is taken.
    public func create(
        parent: NodeID, name: String, mode: UInt32 = 0o644,
        uid: UInt32 = LocalIdentity.uid, gid: UInt32 = LocalIdentity.gid
    ) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.create(parent: parent, name: name, mode: mode, uid: uid, gid: gid))
    }

    /// A regular file, fifo, socket or device node; `rdev` is a device node's
    /// number (Linux's makedev encoding), stored as 0 for other kinds.
    public func mknod(
        parent: NodeID, name: String, kind: NodeKind, mode: UInt32,
        uid: UInt32 = LocalIdentity.uid, gid: UInt32 = LocalIdentity.gid, rdev: UInt64 = 0
    ) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.mknod(parent: parent, name: name, kind: kind, mode: mode, uid: uid, gid: gid, rdev: rdev))
    }

    /// Removes a name; returns the directory's attributes after it.
    @discardableResult
    public func unlink(parent: NodeID, name: String) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.unlink(parent: parent, name: name))
    }

    /// Removes an empty directory; returns the parent's attributes after it.
    @discardableResult
    public func rmdir(parent: NodeID, name: String) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.rmdir(parent: parent, name: name))
    }

    public func rename(
        parent: NodeID, name: String, newParent: NodeID, newName: String, flags: RenameFlags = []
    ) async throws(NetStoreError) {
        try await expectEmpty(.rename(parent: parent, name: name, newParent: newParent, newName: newName, flags: flags))
    }

    /// A hard link to `node` named `newName` in `newParent`.
    public func link(_ node: NodeID, newParent: NodeID, newName: String) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.link(node: node, newParent: newParent, newName: newName))
    }

    public func symlink(
        parent: NodeID, name: String, target: String,
        uid: UInt32 = LocalIdentity.uid, gid: UInt32 = LocalIdentity.gid
    ) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.symlink(parent: parent, name: name, target: target, uid: uid, gid: gid))
    }

    public func readlink(_ node: NodeID) async throws(NetStoreError) -> String {
        let response = try await send(.readlink(node: node))
        guard case .target(let target) = response else { throw unexpected(response, to: .readlink) }
        return target
    }

    public func setattr(_ node: NodeID, _ changes: SetAttributes) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.setattr(node: node, changes: changes))
    }

    public func statfs() async throws(NetStoreError) -> FileSystemStats {
        let response = try await send(.statfs)
        guard case .stats(let stats) = response else { throw unexpected(response, to: .statfs) }
        return stats
    }

    // MARK: Content

    /// Which of `ids` the server holds, in order; asks in batches of `Limits.maxHashesPerQuery`.
    public func hasBlocks(_ ids: [BlockID]) async throws(NetStoreError) -> [Bool] {
        var present: [Bool] = []
        present.reserveCapacity(ids.count)
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(ids.count, start + Limits.maxHashesPerQuery)])
            let response = try await send(.hasBlocks(batch))
            guard case .presence(let flags) = response, flags.count == batch.count else {
                throw unexpected(response, to: .hasBlocks)
            }
            present.append(contentsOf: flags)
            start += batch.count
        }
        return present
    }

    /// Stores a block; the server checks that `data` hashes to `id`.
    public func putBlock(_ id: BlockID, data: ByteBuffer) async throws(NetStoreError) {
        try await expectEmpty(.putBlock(id: id, data: data))
    }

    /// A block's bytes as the server sent them (not checked: see `readBlock`).
    public func getBlock(_ id: BlockID) async throws(NetStoreError) -> ByteBuffer {
        let response = try await send(.getBlock(id: id))
        guard case .block(let data) = response else { throw unexpected(response, to: .getBlock) }
        return data
    }

    /// Replaces a file's content if its version is still `baseVersion`.
    public func commit(
        _ node: NodeID, baseVersion: UInt64, size: UInt64, blocks: [BlockID]
    ) async throws(NetStoreError) -> NodeAttributes {
        try await attributes(.commit(node: node, baseVersion: baseVersion, size: size, blocks: blocks))
    }

    /// Replaces a file's content with `bytes` (at most one block), sent with
    /// the commit itself, if its version is still `baseVersion`.
    public func commitInline(_ node: NodeID, baseVersion: UInt64, bytes: [UInt8]) async throws(NetStoreError) -> NodeAttributes {
        precondition(bytes.count <= Limits.blockSize, "an inline commit carries one block at most")
        return try await attributes(.commitInline(node: node, baseVersion: baseVersion, data: ByteBuffer(bytes: bytes)))
    }

    /// Creates a regular file whose content is `bytes` (at most one block) in
    /// one request; EEXIST if the name is taken.
    public func createInline(
        parent: NodeID, name: String, mode: UInt32 = 0o644,
        uid: UInt32 = LocalIdentity.uid, gid: UInt32 = LocalIdentity.gid, bytes: [UInt8]
    ) async throws(NetStoreError) -> NodeAttributes {
        precondition(bytes.count <= Limits.blockSize, "an inline create carries one block at most")
        return try await attributes(.createInline(parent: parent, name: name, mode: mode, uid: uid, gid: gid, data: ByteBuffer(bytes: bytes)))
    }

    /// Creates each of `files` with its content in one request (one change):
    /// each one's attributes, or why that one was not made (EEXIST, ...), in order.
    public func createInlineBatch(_ files: [InlineFile]) async throws(NetStoreError) -> [Result<NodeAttributes, NetStoreError>] {
        let response = try await send(.createInlineBatch(files: files))
        guard case .outcomes(let outcomes) = response, outcomes.count == files.count else {
            throw unexpected(response, to: .createInlineBatch)
        }
        return outcomes
    }

    /// Removes each name (unlink or rmdir) in one request and one change; each
    /// outcome is the parent's attributes or why that name was not removed.
    public func removeBatch(_ entries: [EntryRemoval]) async throws(NetStoreError) -> [Result<NodeAttributes, NetStoreError>] {
        let response = try await send(.removeBatch(entries: entries))
        guard case .outcomes(let outcomes) = response, outcomes.count == entries.count else {
            throw unexpected(response, to: .removeBatch)
        }
        return outcomes
    }

    public func getContent(_ node: NodeID) async throws(NetStoreError) -> FileContent {
        let response = try await send(.getContent(node: node))
        guard case .content(let content) = response else { throw unexpected(response, to: .getContent) }
        return content
    }

    /// A file's content and, for a small file, its one block's bytes, checked
    /// against the block's hash (bytes that do not match are not returned).
    public func getContentInline(_ node: NodeID) async throws(NetStoreError) -> (content: FileContent, block: [UInt8]?) {
        let response = try await send(.getContentInline(node: node))
        guard case .contentInline(let content, let data) = response else { throw unexpected(response, to: .getContentInline) }
        guard data.readableBytes > 0, content.blocks.count == 1, BlockReaders.hash(of: data) == content.blocks[0].bytes else {
            return (content, nil)
        }
        return (content, Array(data.readableBytesView))
    }

    // MARK: Accounts

    public func addUser(name: String, password: String, role: Role = .user) async throws(NetStoreError) -> UserInfo {
        let response = try await send(.userAdd(name: name, password: password, role: role))
        guard case .user(let user) = response else { throw unexpected(response, to: .userAdd) }
        return user
    }

    /// An admin sets anyone's password (`oldPassword` may be empty); a user sets their own.
    public func setPassword(user name: String, oldPassword: String, newPassword: String) async throws(NetStoreError) {
        try await expectEmpty(.userPasswd(name: name, oldPassword: oldPassword, newPassword: newPassword))
    }

    public func listUsers() async throws(NetStoreError) -> [UserInfo] {
        let response = try await send(.userList)
        guard case .users(let users) = response else { throw unexpected(response, to: .userList) }
        return users
    }

    public func removeUser(name: String) async throws(NetStoreError) {
        try await expectEmpty(.userRemove(name: name))
    }

    // MARK: Helpers

    private func attributes(_ request: Request) async throws(NetStoreError) -> NodeAttributes {
        let response = try await send(request)
        guard case .attributes(let attributes) = response else { throw unexpected(response, to: request.opcode) }
        return attributes
    }

    private func expectEmpty(_ request: Request) async throws(NetStoreError) {
        let response = try await send(request)
        guard case .empty = response else { throw unexpected(response, to: request.opcode) }
    }
}
