import NetStoreProtocol

extension Request {
    /// True when sending the request twice has the same effect as sending it
    /// once, so it may be retried after a lost connection. A namespace mutation
    /// is not: the server may have applied it before the connection broke.
    public var isIdempotent: Bool {
        switch self {
        case .ping, .status, .lookup, .getattr, .readdir, .readlink, .statfs,
             .hasBlocks, .putBlock, .getBlock, .getContent, .getContentInline, .userList, .digest, .replicaPutBlock, .replicate,
             .replicateWithBlocks, .replicateNotice,
             .checkBlocks, .repairBlock, .replicaGetBlock,
             .snapshotBegin, .snapshotChunk, .watch:
            true
        case .login, .auth, .logout, .mkdir, .create, .mknod, .unlink, .rmdir, .rename,
             .link, .symlink, .setattr, .commit, .commitInline, .createInline, .createInlineBatch, .removeBatch, .userAdd, .userPasswd, .userRemove, .promote:
            false
        }
    }
}

extension Response {
    /// The reply's kind, for error messages.
    var kindName: String {
        switch self {
        case .empty: "empty"
        case .session: "session"
        case .attributes: "attributes"
        case .page: "page"
        case .target: "target"
        case .stats: "stats"
        case .status: "status"
        case .presence: "presence"
        case .block: "block"
        case .content: "content"
        case .contentInline: "content with its block"
        case .user: "user"
        case .users: "users"
        case .blocksNeeded: "blocks needed"
        case .digest: "digest"
        case .blockCheck: "block check"
        case .repaired: "repaired"
        case .snapshotReceived: "snapshot received"
        case .changes: "changes"
        case .outcomes: "outcomes"
        }
    }
}
