import NetStoreCore
import NetStoreProtocol

extension Request {
    /// Checks the field limits the codec enforces, before the request is sent:
    /// a frame the encoder refuses would close the connection under every
    /// other request in flight, whereas this fails only the one request.
    func checkLimits() throws(NetStoreError) {
        switch self {
        case .ping, .logout, .status, .statfs, .userList, .getattr, .readlink, .getContent, .getBlock, .readdir:
            return
        case .login(let user, let password):
            try Self.check(user, Limits.maxUserNameLength, "a user name")
            try Self.check(password, Limits.maxPasswordLength, "a password")
        case .auth(let token):
            try Self.check(token, Limits.maxTokenLength, "a token")
        case .lookup(_, let name), .unlink(_, let name), .rmdir(_, let name),
             .mkdir(_, let name, _, _, _), .create(_, let name, _, _, _), .mknod(_, let name, _, _, _, _),
             .link(_, _, let name):
            try Self.checkName(name)
        case .rename(_, let name, _, let newName, _):
            try Self.checkName(name)
            try Self.checkName(newName)
        case .symlink(_, let name, let target, _, _):
            try Self.checkName(name)
            try Self.check(target, Limits.maxSymlinkTarget, "a symlink target", code: .nameTooLong)
        case .setattr:
            return
        case .hasBlocks(let ids):
            if ids.count > Limits.maxHashesPerQuery {
                throw NetStoreError(.invalid, "at most \(Limits.maxHashesPerQuery) blocks per query")
            }
        case .putBlock(_, let data):
            if data.readableBytes > Limits.maxBlockSize {
                throw NetStoreError(.fileTooBig, "a block is at most \(Limits.maxBlockSize) bytes")
            }
        case .commit(_, _, _, let blocks):
            if blocks.count > Limits.maxBlocksPerCommit {
                throw NetStoreError(.fileTooBig, "a file has at most \(Limits.maxBlocksPerCommit) blocks")
            }
        case .userAdd(let name, let password, _):
            try Self.check(name, Limits.maxUserNameLength, "a user name")
            try Self.check(password, Limits.maxPasswordLength, "a password")
        case .userPasswd(let name, let oldPassword, let newPassword):
            try Self.check(name, Limits.maxUserNameLength, "a user name")
            try Self.check(oldPassword, Limits.maxPasswordLength, "a password")
            try Self.check(newPassword, Limits.maxPasswordLength, "a password")
        case .userRemove(let name):
            try Self.check(name, Limits.maxUserNameLength, "a user name")
        }
    }

    private static func checkName(_ name: String) throws(NetStoreError) {
        try check(name, Limits.maxNameLength, "a name", code: .nameTooLong)
    }

    private static func check(
        _ text: String, _ limit: Int, _ what: String, code: ErrorCode = .invalid
    ) throws(NetStoreError) {
        if text.utf8.count > limit { throw NetStoreError(code, "\(what) is at most \(limit) bytes") }
    }
}
