import NIOCore
import NetStoreCore

/// A successful reply. Which case answers which opcode:
/// - `.empty`: ping, logout, rename, putBlock, userPasswd, userRemove
/// - `.session`: login, auth
/// - `.attributes`: lookup, getattr, mkdir, create, mknod, link, symlink, setattr, commit, commitInline, createInline, unlink, rmdir (the directory)
/// - `.outcomes`: createInlineBatch, removeBatch
/// - `.page`: readdir · `.target`: readlink · `.stats`: statfs · `.status`: status
/// - `.presence`: hasBlocks · `.block`: getBlock · `.content`: getContent · `.contentInline`: getContentInline
/// - `.user`: userAdd · `.users`: userList
/// - `.blocksNeeded`: replicate · `.empty`: replicaPutBlock · `.digest`: digest
/// - `.blockCheck`: checkBlocks · `.repaired`: repairBlock · `.block`: replicaGetBlock
/// - `.snapshotReceived`: snapshotBegin, snapshotChunk
/// - `.empty`: watch · `.changes`: the server's unasked CHANGES frame
public enum Response: Sendable, Hashable {
    case empty
    case session(SessionInfo)
    case attributes(NodeAttributes)
    case page(DirectoryPage)
    case target(String)
    case stats(FileSystemStats)
    case status(ServerStatus)
    /// One flag per asked id, in the order asked.
    case presence([Bool])
    case block(ByteBuffer)
    case content(FileContent)
    /// A file's content and the bytes of its one block; `data` is empty when
    /// they are not included (a larger file, or no block).
    case contentInline(FileContent, data: ByteBuffer)
    case user(UserInfo)
    case users([UserInfo])
    /// The blocks a replicated append refers to that the receiver lacks; empty: accepted.
    case blocksNeeded([BlockID])
    case digest(StateDigest)
    case blockCheck(BlockCheckPage)
    /// True when the server replaced its copy; false when its copy was already good.
    case repaired(Bool)
    /// How many bytes of the offered snapshot body the receiver holds (from the start).
    case snapshotReceived(UInt64)
    /// In the order asked: each file's attributes or why it was not made
    /// (createInlineBatch); each parent's attributes or why the name was not
    /// removed (removeBatch).
    case outcomes([Result<NodeAttributes, NetStoreError>])
    /// What changed (never an answer to a request: see `Opcode.changes`).
    case changes([ChangeNotice])
}
