import NetStoreCore

/// One mutation of a server's state, with every value the primary chose (times,
/// password hashes, token hashes), so that applying the same operations in the
/// same order gives the same state on every server. Ids (nodes, users, entries)
/// are not carried: applying allocates them in order, deterministically.
///
/// An operation is the payload of a replicated log entry (`MutationCodec`).
/// Its errors (EEXIST, ENOTEMPTY, a version conflict, ...) are deterministic
/// results of applying it to the state it finds.
public enum Mutation: Sendable, Hashable {
    // Namespace.
    case mkdir(account: AccountID, parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, now: Int64)
    /// A regular file, FIFO, socket or device node; `rdev` is kept for device nodes only.
    case mknod(account: AccountID, parent: NodeID, name: String, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32, rdev: UInt64 = 0, now: Int64)
    case symlink(account: AccountID, parent: NodeID, name: String, target: String, uid: UInt32, gid: UInt32, now: Int64)
    case link(account: AccountID, node: NodeID, newParent: NodeID, newName: String, now: Int64)
    case unlink(account: AccountID, parent: NodeID, name: String, now: Int64)
    case rmdir(account: AccountID, parent: NodeID, name: String, now: Int64)
    case rename(account: AccountID, parent: NodeID, name: String, newParent: NodeID, newName: String, flags: RenameFlags, now: Int64)
    /// `.now` in `changes` means `now`.
    case setattr(account: AccountID, node: NodeID, changes: SetAttributes, now: Int64)
    /// The blocks must be stored on the server before it applies this.
    case commit(account: AccountID, node: NodeID, baseVersion: UInt64, size: UInt64, blocks: [BlockID], now: Int64)
    /// A regular file made with its content: a `.mknod` of a file and a `.commit`
    /// on it, in one entry (a small file written whole by one client). The blocks
    /// must be stored first, as for a commit.
    case createFile(account: AccountID, parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32,
                    size: UInt64, blocks: [BlockID], now: Int64)
    /// Several `.createFile`s in one entry (a mount's staged new files): each
    /// is made or refused on its own, and the result lists each one's outcome.
    case createFiles(account: AccountID, files: [NewFile], now: Int64)
    /// Names removed in order, each as `.unlink` (a file) or `.rmdir` (a
    /// directory) would, in a savepoint of its own: one refused leaves the others removed.
    case removeEntries(account: AccountID, entries: [EntryRemoval], now: Int64)

    // Accounts. Passwords travel only as their hashes, tokens as their SHA-256.
    /// A user and, in the same transaction, their root directory.
    case addUser(name: String, role: Role, passwordHash: String, now: Int64)
    /// Sets a password hash and revokes the user's sessions.
    case setPassword(name: String, passwordHash: String, now: Int64)
    /// The user, their sessions and their whole tree; never the last admin.
    case removeUser(name: String)
    /// A login: refused if the user's password hash is no longer `checkedHash`
    /// (changed since it was verified); stores `rehash` if set; drops the user's
    /// expired sessions and the oldest beyond `maxSessions - 1`; adds the session.
    case createSession(user: AccountID, checkedHash: String, rehash: String?, tokenHash: [UInt8], now: Int64, expiresNs: Int64, maxSessions: UInt32)
    case deleteSession(tokenHash: [UInt8])
    /// Deletes every session expired at `now`.
    case pruneSessions(now: Int64)

    /// The blocks this operation needs on a server before it is applied there.
    public var referencedBlocks: [BlockID] {
        switch self {
        case let .commit(_, _, _, _, blocks, _), let .createFile(_, _, _, _, _, _, _, blocks, _):
            return blocks.filter { !$0.isHole }
        case let .createFiles(_, files, _):
            return files.flatMap { $0.blocks.filter { !$0.isHole } }
        default:
            return []
        }
    }

    /// For logs: what kind of operation, never its values (hashes stay out of logs).
    public var name: String {
        switch self {
        case .mkdir: "mkdir"
        case .mknod: "mknod"
        case .symlink: "symlink"
        case .link: "link"
        case .unlink: "unlink"
        case .rmdir: "rmdir"
        case .rename: "rename"
        case .setattr: "setattr"
        case .commit: "commit"
        case .createFile: "create-file"
        case .createFiles: "create-files"
        case .removeEntries: "remove-entries"
        case .addUser: "add-user"
        case .setPassword: "set-password"
        case .removeUser: "remove-user"
        case .createSession: "create-session"
        case .deleteSession: "delete-session"
        case .pruneSessions: "prune-sessions"
        }
    }
}

/// What applying an operation returned.
public enum MutationResult: Sendable, Hashable {
    case none
    case attributes(NodeAttributes)
    case user(UserInfo)
    /// `.pruneSessions`: how many were deleted.
    case count(Int)
    /// `.createFiles`: each file's attributes or why it was not made, in order;
    /// `.removeEntries`: each parent's attributes or why the name was not removed.
    case outcomes([Result<NodeAttributes, NetStoreError>])

    public var attributes: NodeAttributes? {
        if case .attributes(let a) = self { return a }
        return nil
    }

    public var user: UserInfo? {
        if case .user(let u) = self { return u }
        return nil
    }
}

extension Mutation {
    /// Whether applying it may change users or sessions (what a token check reads).
    public var changesAccounts: Bool {
        switch self {
        case .addUser, .setPassword, .removeUser, .createSession, .deleteSession, .pruneSessions: true
        case .mkdir, .mknod, .symlink, .link, .unlink, .rmdir, .rename, .setattr, .commit, .createFile, .createFiles, .removeEntries: false
        }
    }
}

/// One file of a `.createFiles`: where, as what, and its content (blocks stored first).
public struct NewFile: Sendable, Hashable {
    public var parent: NodeID
    public var name: String
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var blocks: [BlockID]

    public init(parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, blocks: [BlockID]) {
        self.parent = parent
        self.name = name
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.blocks = blocks
    }
}
