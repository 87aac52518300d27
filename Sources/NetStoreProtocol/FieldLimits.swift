import NetStoreCore

/// A length-limited wire field: what the encoder refuses to write and the
/// decoder refuses to read, from the one table in docs/protocol.md.
struct FieldLimit: Sendable {
    /// Names the field in error messages ("a name", "a block list").
    let label: String
    /// The most bytes (strings, bytes) or elements (lists) the field may hold.
    let limit: Int
    /// The code a caller sees when it tries to send more.
    let code: ErrorCode

    /// Refuses `count` bytes for a bytes32 field over this limit.
    func checkBytes32(_ count: Int) throws(NetStoreError) {
        guard count <= limit, count <= Int(UInt32.max) else {
            throw NetStoreError(code, "\(label) is at most \(limit) bytes, not \(count)")
        }
    }

    // Strings (string16), in UTF-8 bytes.
    static let name = FieldLimit(label: "a name", limit: Limits.maxNameLength, code: .nameTooLong)
    static let userName = FieldLimit(label: "a user name", limit: Limits.maxUserNameLength, code: .invalid)
    static let password = FieldLimit(label: "a password", limit: Limits.maxPasswordLength, code: .invalid)
    static let token = FieldLimit(label: "a session token", limit: Limits.maxTokenLength, code: .invalid)
    static let symlinkTarget = FieldLimit(
        label: "a symlink target", limit: Limits.maxSymlinkTarget, code: .nameTooLong)
    static let message = FieldLimit(label: "an error message", limit: Limits.maxMessageLength, code: .invalid)
    /// Strings the spec gives no smaller limit (server role and version):
    /// only what a string16 can hold.
    static let text = FieldLimit(label: "a text field", limit: Int(UInt16.max), code: .invalid)

    // Lists, in elements.
    static let hashQuery = FieldLimit(
        label: "a block query", limit: Limits.maxHashesPerQuery, code: .invalid)
    static let blockList = FieldLimit(
        label: "a block list", limit: Limits.maxBlocksPerCommit, code: .fileTooBig)
    static let directoryPage = FieldLimit(
        label: "a directory page", limit: Limits.maxReaddirPage, code: .invalid)
    static let userList = FieldLimit(label: "a user list", limit: Limits.maxUsersListed, code: .invalid)
    static let notices = FieldLimit(
        label: "a batch of change notices", limit: Limits.maxNoticesPerFrame, code: .invalid)

    /// Files made by one CREATE_INLINE_BATCH, and each one's content.
    static let batchFiles = FieldLimit(label: "a batch of files", limit: Limits.maxFilesPerBatch, code: .invalid)
    static let batchRemovals = FieldLimit(label: "a batch of removals", limit: Limits.maxRemovalsPerBatch, code: .invalid)
    static let inlineContent = FieldLimit(label: "a small file's content", limit: Limits.inlineContentLimit, code: .fileTooBig)
    /// Blocks carried with one replication message.
    static let carriedBlocks = FieldLimit(label: "a list of carried blocks", limit: Limits.maxCarriedBlocks, code: .invalid)
    /// Entries in one replicated append.
    static let logEntries = FieldLimit(label: "a list of log entries", limit: 65_536, code: .invalid)

    // Bytes (bytes32).
    static let entryPayload = FieldLimit(label: "a log entry", limit: Limits.maxFrameSize, code: .invalid)
    static let blockData = FieldLimit(label: "block data", limit: Limits.maxBlockSize, code: .fileTooBig)
    static let snapshotChunk = FieldLimit(label: "a snapshot chunk", limit: Limits.maxBlockSize, code: .invalid)
}
