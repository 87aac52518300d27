/// What a frame asks for. A response carries its request's opcode, so the
/// decoder knows the shape of the reply's payload.
public enum Opcode: UInt16, Sendable, Hashable, CaseIterable {
    case ping = 0x0001
    case login = 0x0002
    case auth = 0x0003
    case logout = 0x0004
    case status = 0x0005

    case lookup = 0x0101
    case getattr = 0x0102
    case readdir = 0x0103
    case mkdir = 0x0104
    case create = 0x0105
    case mknod = 0x0106
    case unlink = 0x0107
    case rmdir = 0x0108
    case rename = 0x0109
    case link = 0x010A
    case symlink = 0x010B
    case readlink = 0x010C
    case setattr = 0x010D
    case statfs = 0x010E

    case hasBlocks = 0x0201
    case putBlock = 0x0202
    case getBlock = 0x0203
    case commit = 0x0204
    case getContent = 0x0205

    case userAdd = 0x0301
    case userPasswd = 0x0302
    case userList = 0x0303
    case userRemove = 0x0304

    /// Server to server (docs/replication.md): a replication message; blocks ahead of entries.
    case replicate = 0x0401
    case replicaPutBlock = 0x0402
    /// Admin: the state digest, to compare servers.
    case digest = 0x0403
    /// Admin, to a backup: become primary under a higher term.
    case promote = 0x0404
    /// Admin: check a page of this server's referenced blocks against their hashes.
    case checkBlocks = 0x0408
    /// Admin: overwrite a missing or damaged block file with a verified copy.
    case repairBlock = 0x0409
    /// Server to server: a block's verified bytes from this server's own disk.
    case replicaGetBlock = 0x040A
    /// Server to server: a snapshot body is coming; the answer says how much of it the receiver holds.
    case snapshotBegin = 0x0405
    /// Server to server: part of a snapshot body, at an offset.
    case snapshotChunk = 0x0406
    /// Server to server: a replication message with the small blocks its entries
    /// refer to, so a small file's commit needs no refusal and PUT_BLOCK first.
    case replicateWithBlocks = 0x040B
    /// Server to server: a replication message that needs no reply (a backup's
    /// answer to appends); none comes unless it is refused.
    case replicateNotice = 0x040C

    /// A commit that carries a small file's whole content inline (one block):
    /// no HAS_BLOCKS or PUT_BLOCK round trips before it.
    case commitInline = 0x0500
    /// A file's content, with its one block's bytes when it is small: opening
    /// and reading a small file needs no GET_BLOCK round trip.
    case getContentInline = 0x0501
    /// A new regular file with its whole content inline (one block): CREATE and
    /// COMMIT_INLINE in one request, and one change to replicate instead of two.
    case createInline = 0x0502
    /// Several new files with their content (a mount's staged files): one
    /// request and one change to replicate; each file made or refused on its own.
    case createInlineBatch = 0x0503
    /// Several names removed (unlink or rmdir each) in one request and one
    /// change to replicate; each removed or refused on its own.
    case removeBatch = 0x0504

    /// Asks to be told, on this connection, of changes other connections make
    /// to the account's files (docs/protocol.md, "Change notices").
    case watch = 0x0600
    /// Server to client, unasked: a batch of change notices. Never a request;
    /// always a response frame with request id `ChangeNotice.frameRequestID`.
    case changes = 0x0601
}
