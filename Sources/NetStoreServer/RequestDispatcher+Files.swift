import NIOCore
import NetStoreCore
import NetStoreProtocol

extension RequestDispatcher {
    /// Requests that need a logged-in user. Every node a request names is
    /// checked by the store to belong to `user`'s account.
    func respondAuthenticated(to request: Request, user: UserInfo) async throws -> Response {
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
            return .attributes(try await storage {
                try store.mkdir(account: account, parent: parent, name: name, mode: mode, uid: uid, gid: gid, now: now)
            })
        case let .create(parent, name, mode, uid, gid):
            return .attributes(try await storage {
                try store.mknod(account: account, parent: parent, name: name, kind: .file, mode: mode, uid: uid, gid: gid, now: now)
            })
        case let .mknod(parent, name, kind, mode, uid, gid):
            return .attributes(try await storage {
                try store.mknod(account: account, parent: parent, name: name, kind: kind, mode: mode, uid: uid, gid: gid, now: now)
            })
        case let .unlink(parent, name):
            try await storage { try store.unlink(account: account, parent: parent, name: name, now: now) }
            return .empty
        case let .rmdir(parent, name):
            try await storage { try store.rmdir(account: account, parent: parent, name: name, now: now) }
            return .empty
        case let .rename(parent, name, newParent, newName, flags):
            try await storage {
                try store.rename(account: account, parent: parent, name: name, newParent: newParent,
                                 newName: newName, flags: flags, now: now)
            }
            return .empty
        case let .link(node, newParent, newName):
            return .attributes(try await storage {
                try store.link(account: account, node: node, newParent: newParent, newName: newName, now: now)
            })
        case let .symlink(parent, name, target, uid, gid):
            return .attributes(try await storage {
                try store.symlink(account: account, parent: parent, name: name, target: target, uid: uid, gid: gid, now: now)
            })
        case let .readlink(node):
            return .target(try await storage { try store.readlink(account: account, node: node) })
        case let .setattr(node, changes):
            return .attributes(try await storage { try store.setattr(account: account, node: node, changes: changes, now: now) })
        case .statfs:
            return .stats(try await storage { try store.statfs(account: account) })
        case let .hasBlocks(ids):
            return .presence(try await storage { try store.hasBlocks(ids) })
        case let .putBlock(id, data):
            try await storage {
                try data.withUnsafeReadableBytes { try store.putBlock(id, bytes: $0, now: now) }
            }
            return .empty
        case let .getBlock(id):
            let bytes = try await storage { try store.getBlock(id) }
            return .block(ByteBuffer(bytes: bytes))
        case let .commit(node, baseVersion, size, blocks):
            return .attributes(try await storage {
                try store.commit(account: account, node: node, baseVersion: baseVersion, size: size, blocks: blocks, now: now)
            })
        case let .getContent(node):
            return .content(try await storage { try store.content(account: account, node: node) })
        case .userAdd, .userPasswd, .userList, .userRemove:
            return try await respondAccounts(to: request, user: user)
        case .ping, .status, .login, .auth, .logout:
            preconditionFailure("answered before authentication")
        }
    }
}
