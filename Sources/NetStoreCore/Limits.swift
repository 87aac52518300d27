/// Every size NetStore accepts has a limit; they live here so that the codec,
/// the server and the clients agree.
public enum Limits {
    /// Content is cut into blocks of this size; only a file's last block may be shorter.
    public static let blockSize = 1 << 20
    /// The largest block a server accepts.
    public static let maxBlockSize = 4 << 20
    /// The largest frame, header included: a full block plus room for its header.
    public static let maxFrameSize = maxBlockSize + 64 * 1024
    /// A COMMIT's block list: 131,072 blocks of 1 MiB is a 128 GiB file, and
    /// its 4 MiB of ids fit in one frame.
    public static let maxBlocksPerCommit = 131_072
    public static let maxFileSize: UInt64 = UInt64(maxBlocksPerCommit) * UInt64(blockSize)
    /// HAS_BLOCKS asks about at most this many hashes at once.
    public static let maxHashesPerQuery = 4096
    /// A small file: the mount commits one this size or smaller inline,
    /// GET_CONTENT_INLINE sends its block with its content, and replication
    /// carries its block with the append that commits it.
    public static let inlineContentLimit = 128 << 10
    /// Blocks carried with one replication message (small files' blocks, sent
    /// with the entries that refer to them).
    public static let maxCarriedBlocks = 256
    /// CREATE_INLINE_BATCH makes at most this many files, of at most this many
    /// content bytes in all: a batch's blocks then travel with its log entry
    /// (within the bytes replication carries with one append, a quarter of a
    /// frame). 1 MiB rather than 256 KiB: `cp -r` of files of 1-100 KiB in
    /// write-back mode went from about 20 files a batch to 80, and 25% faster.
    public static let maxFilesPerBatch = 256
    public static let maxBatchContent = 1 << 20
    /// REMOVE_BATCH removes at most this many names (its answer lists an outcome
    /// for each, as CREATE_INLINE_BATCH's does: the two limits are equal).
    public static let maxRemovalsPerBatch = maxFilesPerBatch
    /// A file or directory name, in UTF-8 bytes (as NAME_MAX).
    public static let maxNameLength = 255
    /// A symlink target, in UTF-8 bytes (as PATH_MAX - 1).
    public static let maxSymlinkTarget = 4095
    public static let maxUserNameLength = 64
    public static let maxPasswordLength = 1024
    public static let minPasswordLength = 8
    public static let maxTokenLength = 256
    /// An error message on the wire, in UTF-8 bytes.
    public static let maxMessageLength = 1024
    /// READDIR returns at most this many entries per page.
    public static let maxReaddirPage = 4096
    /// USER_LIST returns at most this many accounts.
    public static let maxUsersListed = 10_000
    /// A CHANGES frame carries at most this many notices (at most 266 bytes each).
    public static let maxNoticesPerFrame = 1024
    /// Hard links to one node.
    public static let maxLinks: UInt32 = 65_000
}
