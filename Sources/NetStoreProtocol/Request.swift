import NIOCore
import NetStoreCore
import NetStoreReplication

/// Everything a client can ask of a server. Every name is checked by the
/// server (NameRules); the codec only checks lengths.
public enum Request: Sendable, Hashable {
    case ping
    /// A new session for a user name and password.
    case login(user: String, password: String)
    /// Resume a session with a token from an earlier LOGIN.
    case auth(token: String)
    /// Revoke this connection's session token.
    case logout
    case status

    case lookup(parent: NodeID, name: String)
    case getattr(node: NodeID)
    /// Entries after `cookie` (0 for the first page), at most `limit`.
    case readdir(directory: NodeID, cookie: UInt64, limit: UInt32)
    case mkdir(parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32)
    /// Creates an empty regular file; EEXIST if the name is taken.
    case create(parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32)
    /// Creates a regular file, fifo, socket or device node; `rdev` is the
    /// device number of a device node (ignored, stored as 0, for other kinds).
    case mknod(parent: NodeID, name: String, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32, rdev: UInt64)
    case unlink(parent: NodeID, name: String)
    case rmdir(parent: NodeID, name: String)
    case rename(parent: NodeID, name: String, newParent: NodeID, newName: String, flags: RenameFlags)
    /// A hard link to `node` named `newName` in `newParent`.
    case link(node: NodeID, newParent: NodeID, newName: String)
    case symlink(parent: NodeID, name: String, target: String, uid: UInt32, gid: UInt32)
    case readlink(node: NodeID)
    case setattr(node: NodeID, changes: SetAttributes)
    case statfs

    /// Which of these blocks the server already holds.
    case hasBlocks([BlockID])
    /// Stores a block; the server checks that `data` hashes to `id`.
    case putBlock(id: BlockID, data: ByteBuffer)
    case getBlock(id: BlockID)
    /// Replaces a file's content atomically, if its version is still `baseVersion`.
    case commit(node: NodeID, baseVersion: UInt64, size: UInt64, blocks: [BlockID])
    /// A file's current version, size and block list.
    case getContent(node: NodeID)
    /// Replaces a file's content with `data` (at most one block), if its version
    /// is still `baseVersion`: the server stores the block and commits it in one
    /// request. All zeros (or nothing) is a file of holes.
    case commitInline(node: NodeID, baseVersion: UInt64, data: ByteBuffer)
    /// As `getContent`, and the bytes of the file's one block if it is no larger
    /// than `Limits.inlineContentLimit`.
    case getContentInline(node: NodeID)
    /// Creates a regular file whose content is `data` (at most one block; all
    /// zeros or nothing is a file of holes); EEXIST if the name is taken.
    case createInline(parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, data: ByteBuffer)
    /// Creates each of `files` as `createInline` would, in one change: at most
    /// `Limits.maxFilesPerBatch` files of at most `Limits.maxBatchContent` bytes
    /// in all. Answered with each file's outcome, in order.
    case createInlineBatch(files: [InlineFile])
    /// Removes each of `entries` as `unlink` (a file) or `rmdir` (a directory)
    /// would, in order, in one change: at most `Limits.maxRemovalsPerBatch`.
    /// Answered with each one's outcome (the directory's attributes, or why not).
    case removeBatch(entries: [EntryRemoval])

    case userAdd(name: String, password: String, role: Role)
    /// An admin sets anyone's password; a user sets their own with `oldPassword`.
    case userPasswd(name: String, oldPassword: String, newPassword: String)
    case userList
    case userRemove(name: String)

    /// A replication message from replica `from`. The reply lists the blocks an
    /// append's entries refer to that the receiver lacks; empty means accepted.
    case replicate(from: UInt32, message: ReplicationMessage)
    /// A replication message and blocks its entries refer to, stored by the
    /// receiver (each checked against its hash) before it looks at the message.
    /// The reply is as for `replicate`.
    case replicateWithBlocks(from: UInt32, blocks: [CarriedBlock], message: ReplicationMessage)
    /// A replication message that refers to no block (a backup's answer), sent
    /// without waiting: it has no reply. A refused one is answered with an error
    /// frame of request id 0, and the connection closes.
    case replicateNotice(from: UInt32, message: ReplicationMessage)
    /// A block sent ahead of the log entries that refer to it.
    case replicaPutBlock(id: BlockID, data: ByteBuffer)
    case digest
    /// Asks this server (a backup) to become primary; refused unless it holds
    /// every entry a majority acknowledged.
    case promote
    /// Checks up to `limit` of this server's referenced blocks whose ids come
    /// after `after` (`BlockID.hole` for the first page); admin only.
    case checkBlocks(after: BlockID, limit: UInt32)
    /// Replaces this server's copy of a block when it is missing or damaged; the
    /// server checks that `data` hashes to `id` and never replaces a good copy. Admin only.
    case repairBlock(id: BlockID, data: ByteBuffer)
    /// Another server of the cluster asks for a block this one holds (to repair its own copy).
    case replicaGetBlock(id: BlockID)
    /// Replica `from` is about to send the snapshot body `offer`; the reply
    /// (`snapshotReceived`) says how many of its bytes the receiver holds already.
    case snapshotBegin(from: UInt32, offer: SnapshotOffer)
    /// Bytes of the snapshot body named by `sha256`, starting at `offset`.
    case snapshotChunk(from: UInt32, sha256: [UInt8], offset: UInt64, data: ByteBuffer)
    /// From now on, send this connection CHANGES frames for the changes other
    /// connections make to the account's files. Only the primary accepts it.
    case watch

    public var opcode: Opcode {
        switch self {
        case .ping: .ping
        case .login: .login
        case .auth: .auth
        case .logout: .logout
        case .status: .status
        case .lookup: .lookup
        case .getattr: .getattr
        case .readdir: .readdir
        case .mkdir: .mkdir
        case .create: .create
        case .mknod: .mknod
        case .unlink: .unlink
        case .rmdir: .rmdir
        case .rename: .rename
        case .link: .link
        case .symlink: .symlink
        case .readlink: .readlink
        case .setattr: .setattr
        case .statfs: .statfs
        case .hasBlocks: .hasBlocks
        case .putBlock: .putBlock
        case .getBlock: .getBlock
        case .commit: .commit
        case .getContent: .getContent
        case .commitInline: .commitInline
        case .createInline: .createInline
        case .createInlineBatch: .createInlineBatch
        case .removeBatch: .removeBatch
        case .getContentInline: .getContentInline
        case .userAdd: .userAdd
        case .userPasswd: .userPasswd
        case .userList: .userList
        case .userRemove: .userRemove
        case .replicate: .replicate
        case .replicateWithBlocks: .replicateWithBlocks
        case .replicateNotice: .replicateNotice
        case .replicaPutBlock: .replicaPutBlock
        case .digest: .digest
        case .promote: .promote
        case .checkBlocks: .checkBlocks
        case .repairBlock: .repairBlock
        case .replicaGetBlock: .replicaGetBlock
        case .snapshotBegin: .snapshotBegin
        case .snapshotChunk: .snapshotChunk
        case .watch: .watch
        }
    }
}

/// One file of CREATE_INLINE_BATCH: where, as what, and its whole content.
public struct InlineFile: Sendable, Hashable {
    public var parent: NodeID
    public var name: String
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var data: ByteBuffer

    public init(parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, data: ByteBuffer) {
        self.parent = parent
        self.name = name
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.data = data
    }
}

/// A block and its bytes, carried in a replication request.
public struct CarriedBlock: Sendable, Hashable {
    public var id: BlockID
    public var data: ByteBuffer

    public init(id: BlockID, data: ByteBuffer) {
        self.id = id
        self.data = data
    }
}
