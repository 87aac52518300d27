import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreStorage

extension RequestDispatcher {
    /// Requests that need a logged-in user. Every node a request names is
    /// checked by the store to belong to `user`'s account.
    /// `origin` is the asking connection: the change notices of what it changes skip it.
    func respondAuthenticated(to request: Request, user: UserInfo, origin: UInt64? = nil) async throws -> Response {
        let account = user.id
        let store = self.store
        let now = self.now
        switch request {
        case let .lookup(parent, name):
            return .attributes(try await storage { try store.lookup(account: account, parent: parent, name: name) })
        case let .getattr(node):
            return .attributes(try await storage { try store.getattr(account: account, node: node) })
        case let .readdir(directory, cookie, limit):
            let page = try await storage {
                try store.readdir(account: account, directory: directory, cookie: cookie, limit: Int(limit))
            }
            return .page(page)
        case let .mkdir(parent, name, mode, uid, gid):
            return try await attributes(origin: origin, .mkdir(account: account, parent: parent, name: name, mode: mode, uid: uid, gid: gid, now: now))
        case let .create(parent, name, mode, uid, gid):
            return try await attributes(origin: origin, .mknod(account: account, parent: parent, name: name, kind: .file, mode: mode, uid: uid, gid: gid, now: now))
        case let .mknod(parent, name, kind, mode, uid, gid, rdev):
            guard kind != .directory && kind != .symlink else {
                throw NetStoreError(.invalid, "mknod makes files, FIFOs, sockets and devices only; use mkdir or symlink for a \(kind)")
            }
            // Who may make a device node is the mount's local privilege check
            // (CAP_MKNOD); the store keeps kind and device number as given.
            return try await attributes(origin: origin, .mknod(account: account, parent: parent, name: name, kind: kind, mode: mode, uid: uid, gid: gid,
                                               rdev: kind.isDevice ? rdev : 0, now: now))
        case let .unlink(parent, name):
            // Answered with the directory's attributes: the mount needs no GETATTR after it.
            return try await attributes(origin: origin, .unlink(account: account, parent: parent, name: name, now: now))
        case let .rmdir(parent, name):
            return try await attributes(origin: origin, .rmdir(account: account, parent: parent, name: name, now: now))
        case let .rename(parent, name, newParent, newName, flags):
            _ = try await submitter.submit(.rename(account: account, parent: parent, name: name, newParent: newParent,
                                                   newName: newName, flags: flags, now: now), origin: origin)
            return .empty
        case let .link(node, newParent, newName):
            return try await attributes(origin: origin, .link(account: account, node: node, newParent: newParent, newName: newName, now: now))
        case let .symlink(parent, name, target, uid, gid):
            return try await attributes(origin: origin, .symlink(account: account, parent: parent, name: name, target: target, uid: uid, gid: gid, now: now))
        case let .readlink(node):
            return .target(try await storage { try store.readlink(account: account, node: node) })
        case let .setattr(node, changes):
            return try await attributes(origin: origin, .setattr(account: account, node: node, changes: changes, now: now))
        case .statfs:
            return .stats(try await storage { try store.statfs(account: account) })
        case let .hasBlocks(ids):
            let now = self.now
            return .presence(try await storage { try store.hasBlocks(ids, now: now) })
        case let .putBlock(id, data):
            try await storage {
                try data.withUnsafeReadableBytes { try store.putBlock(id, bytes: $0, now: now) }
            }
            // Stored means verified: the backups may have it before the file's commit.
            replication?.forwardClientBlock(id, bytes: data)
            return .empty
        case let .getBlock(id):
            return .block(ByteBuffer(bytes: try await readBlockRepairing(id)))
        case let .commit(node, baseVersion, size, blocks):
            return try await attributes(origin: origin, .commit(account: account, node: node, baseVersion: baseVersion, size: size, blocks: blocks, now: now))
        case let .commitInline(node, baseVersion, data):
            return try await commitInline(account: account, node: node, baseVersion: baseVersion, data: data, origin: origin)
        case let .createInline(parent, name, mode, uid, gid, data):
            let (ids, small) = try await inlineBlocks([data])
            return try await attributes(origin: origin, .createFile(
                account: account, parent: parent, name: name, mode: mode & 0o7777, uid: uid, gid: gid,
                size: UInt64(data.readableBytes), blocks: ids[0].isHole ? [] : [ids[0]], now: now), storing: small)
        case let .createInlineBatch(files):
            return try await createInlineBatch(account: account, files: files, origin: origin)
        case let .removeBatch(entries):
            guard !entries.isEmpty else { return .outcomes([]) }
            guard case .outcomes(let outcomes) = try await submitter.submit(.removeEntries(account: account, entries: entries, now: now), origin: origin) else {
                preconditionFailure("removeEntries returns each removal's outcome")
            }
            return .outcomes(outcomes)
        case let .getContent(node):
            return .content(try await storage { try store.content(account: account, node: node) })
        case let .getContentInline(node):
            return try await contentInline(account: account, node: node)
        case .userAdd, .userPasswd, .userList, .userRemove:
            return try await respondAccounts(to: request, user: user)
        case .promote:
            guard user.role == .admin else {
                throw NetStoreError(.accessDenied, "only an admin may promote a server; '\(user.name)' is not an admin")
            }
            guard clusterKey != nil, let replication else { throw Self.notReplicating }
            switch await replication.promote() {
            case .promoted(let term):
                logger.notice("promoted to primary", metadata: ["term": "\(term)", "by": "\(user.name)"])
                return .empty
            case .refused(let reason, let ahead):
                var message = "promotion refused: \(reason)"
                if let ahead, let address = replicaAddresses[ahead] { message += " (\(ahead) is \(address))" }
                throw NetStoreError(.tryAgain, message)
            }
        case .digest:
            guard user.role == .admin else {
                throw NetStoreError(.accessDenied, "only an admin may read the state digest; '\(user.name)' is not an admin")
            }
            let digest = try await storage { try store.digest() }
            return .digest(StateDigest(appliedIndex: digest.appliedIndex, sha256: digest.sha256))
        case .checkBlocks, .repairBlock:
            return try await respondBlockAdmin(to: request, user: user)
        case .ping, .status, .login, .auth, .logout, .replicate, .replicateWithBlocks, .replicateNotice, .replicaPutBlock, .replicaGetBlock, .snapshotBegin,
             .snapshotChunk, .watch:
            preconditionFailure("answered before authentication")
        }
    }

    /// A small file's whole content in one request: its one block (as PUT_BLOCK
    /// would store it) and the commit (as COMMIT would make it), stored in one
    /// transaction. All zeros, or nothing, needs no block: the file is a hole.
    private func commitInline(account: AccountID, node: NodeID, baseVersion: UInt64, data: ByteBuffer, origin: UInt64?) async throws -> Response {
        let (ids, small) = try await inlineBlocks([data])
        return try await attributes(origin: origin, .commit(
            account: account, node: node, baseVersion: baseVersion, size: UInt64(data.readableBytes),
            blocks: ids[0].isHole ? [] : [ids[0]], now: now), storing: small)
    }

    /// New small files in one change: their blocks hashed once and stored in the
    /// transaction of one `.createFiles` entry, each file made or refused on its own.
    private func createInlineBatch(account: AccountID, files: [InlineFile], origin: UInt64?) async throws -> Response {
        guard !files.isEmpty else { return .outcomes([]) }
        let (ids, small) = try await inlineBlocks(files.map(\.data))
        let made = zip(files, ids).map { file, id in
            NewFile(parent: file.parent, name: file.name, mode: file.mode & 0o7777, uid: file.uid, gid: file.gid,
                    size: UInt64(file.data.readableBytes), blocks: id.isHole ? [] : [id])
        }
        let now = self.now
        guard case .outcomes(let outcomes) = try await submitter.submit(
            .createFiles(account: account, files: made, now: now), origin: origin, storing: small, now: now)
        else {
            preconditionFailure("createFiles returns each file's outcome")
        }
        return .outcomes(outcomes)
    }

    /// The block ids of files' contents sent inline (the hole for all zeros or
    /// nothing), and the small blocks among them, which the caller has stored
    /// with its change (and which are kept for the append that will carry them
    /// to the backups). Those are hashed here, in the request's task: a small
    /// file makes no trip to a storage thread. A larger one (a commitInline of
    /// up to a block) is stored now, as PUT_BLOCK would store it.
    private func inlineBlocks(_ contents: [ByteBuffer]) async throws -> (ids: [BlockID], small: [(id: BlockID, bytes: [UInt8])]) {
        var ids: [BlockID] = []
        var small: [(id: BlockID, bytes: [UInt8])] = []
        for data in contents {
            if data.readableBytes > Store.smallBlockLimit {
                let (store, now) = (self.store, self.now)
                ids.append(try await storage { () throws -> BlockID in
                    guard let block = Self.inlineBlock(data) else { return .hole }
                    try block.bytes.withUnsafeBytes { try store.putBlock(block.id, bytes: $0, now: now) }
                    return block.id
                })
            } else if let block = Self.inlineBlock(data) {
                ids.append(block.id)
                small.append(block)
            } else {
                ids.append(.hole)
            }
        }
        replication?.rememberCarriedBlocks(small)
        return (ids, small)
    }

    /// Content sent inline as its one block, hashed; nil for all zeros or
    /// nothing, which is the hole (no block).
    private static func inlineBlock(_ data: ByteBuffer) -> (id: BlockID, bytes: [UInt8])? {
        let bytes = Array(data.readableBytesView)
        return bytes.allSatisfy { $0 == 0 } ? nil : (BlockStore.id(of: bytes), bytes)
    }

    /// A file's content and, for a small file of one block, that block's bytes.
    /// A block that cannot be read here now is left out: the client's block
    /// read then tries every server.
    private func contentInline(account: AccountID, node: NodeID) async throws -> Response {
        let store = self.store
        // The list and the block in one storage trip; a block that cannot be read
        // here is tried again on the way that repairs it from a replica.
        let (content, read) = try await storage { () throws -> (FileContent, [UInt8]?) in
            let content = try store.content(account: account, node: node)
            guard let block = Self.inlineBlock(of: content) else { return (content, nil) }
            return (content, try? store.getBlock(block))
        }
        var bytes = read
        if bytes == nil, let block = Self.inlineBlock(of: content) { bytes = try? await readBlockRepairing(block) }
        return .contentInline(content, data: bytes.map { ByteBuffer(bytes: $0) } ?? ByteBuffer())
    }

    /// The one block of a file small enough to be sent with its block list.
    private static func inlineBlock(of content: FileContent) -> BlockID? {
        guard content.size <= UInt64(Limits.inlineContentLimit), content.blocks.count == 1,
              let block = content.blocks.first, !block.isHole else { return nil }
        return block
    }

    /// Submits a mutation that answers with a node's attributes, with the small
    /// blocks it refers to that are not stored yet.
    private func attributes(origin: UInt64?, _ operation: Mutation,
                            storing blocks: [(id: BlockID, bytes: [UInt8])] = []) async throws -> Response {
        let result = blocks.isEmpty
            ? try await submitter.submit(operation, origin: origin)
            : try await submitter.submit(operation, origin: origin, storing: blocks, now: now)
        guard let attributes = result.attributes else {
            preconditionFailure("\(operation.name) returns attributes")
        }
        return .attributes(attributes)
    }
}
