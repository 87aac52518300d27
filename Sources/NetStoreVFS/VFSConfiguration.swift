#if canImport(Glibc)
import Glibc
#endif
import Crypto
import NetStoreCore

/// How the file-system layer caches and transfers.
public struct VFSConfiguration: Sendable {
    /// Holds `blocks/` (the block cache) and the write-back files of open files.
    public var cacheDirectory: String
    /// The block cache's size limit in bytes; least recently used blocks go first.
    public var blockCacheLimit: UInt64
    /// How long attributes and entries stay valid (in the kernel and here), in
    /// seconds, while no watch for changes is live.
    public var attributeTimeout: Double
    /// The same while the mount's watch for changes is live (changes made
    /// elsewhere are then told at once and dropped from the caches); nil: no
    /// watch, `attributeTimeout` always.
    public var watchedAttributeTimeout: Double?
    /// Blocks fetched ahead of a sequential reader.
    public var readAheadBlocks: Int
    /// Blocks uploaded at once by a commit.
    public var uploadParallelism: Int
    /// Completed blocks of a file being written that upload in the background
    /// at once, before the commit (0: none; the commit sends everything).
    public var earlyUploads: Int
    /// How long the directory of a mount's parked files (open files that lost
    /// their last name) may go unrefreshed before another mount deletes it as
    /// the leftover of a mount that died; each mount refreshes its own every
    /// quarter of this, and sweeps others' at start and every `unlinkedLease`.
    public var unlinkedLease: Duration
    /// A file of one block up to this many bytes is committed with its bytes
    /// in the commit request (0: never): one round trip instead of three.
    public var inlineCommitLimit: Int
    /// A new file is made on the server at its first close, with its content
    /// when small (one change instead of two), not at create; O_EXCL then holds
    /// against other clients only at that close (docs/mount.md).
    public var createAtClose: Bool
    /// Write-back mode (docs/mount.md): a new small file's close returns once
    /// the file is journaled in this directory, and the server makes such files
    /// in batches behind it; fsync waits for them. nil: off, a close waits for
    /// the server. Needs `createAtClose`.
    public var stagingDirectory: String?

    public init(
        cacheDirectory: String, blockCacheLimit: UInt64 = 1 << 30, attributeTimeout: Double = 1,
        readAheadBlocks: Int = 8, uploadParallelism: Int = 8, earlyUploads: Int = 8,
        unlinkedLease: Duration = .seconds(600), inlineCommitLimit: Int = Limits.inlineContentLimit,
        watchedAttributeTimeout: Double? = nil, createAtClose: Bool = true,
        stagingDirectory: String? = nil
    ) {
        self.createAtClose = createAtClose
        precondition(stagingDirectory == nil || createAtClose, "write-back mode stages files made at close")
        self.stagingDirectory = stagingDirectory
        precondition(attributeTimeout >= 0 && (watchedAttributeTimeout ?? 0) >= 0, "a negative cache timeout")
        self.watchedAttributeTimeout = watchedAttributeTimeout
        precondition(readAheadBlocks >= 0 && uploadParallelism >= 1 && earlyUploads >= 0, "invalid transfer settings")
        precondition(unlinkedLease > .zero, "the lease of parked files must be positive")
        precondition(inlineCommitLimit >= 0 && inlineCommitLimit <= Limits.blockSize, "an inline commit carries one block at most")
        self.unlinkedLease = unlinkedLease
        self.cacheDirectory = cacheDirectory
        self.blockCacheLimit = blockCacheLimit
        self.attributeTimeout = attributeTimeout
        self.readAheadBlocks = readAheadBlocks
        self.uploadParallelism = uploadParallelism
        self.earlyUploads = earlyUploads
        self.inlineCommitLimit = inlineCommitLimit
    }
}

extension VFSConfiguration {
    /// $XDG_CACHE_HOME/netstore, else ~/.cache/netstore.
    public static func defaultCacheDirectory() -> String {
        if let cache = getenv("XDG_CACHE_HOME").map({ String(cString: $0) }), cache.hasPrefix("/") {
            return "\(cache)/netstore"
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/tmp"
        return "\(home)/.cache/netstore"
    }

    /// Where write-back mode journals: one directory per account, cluster and
    /// mountpoint under the cache, so that mounting the same again finds what
    /// a mount left unmade, and two mounts never share one.
    public static func stagingDirectory(in cacheDirectory: String, user: String, cluster: String, mountpoint: String) -> String {
        let key = SHA256.hash(data: Array(mountpoint.utf8)).prefix(6).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        return "\(cacheDirectory)/staged/\(user)@\(cluster)-\(key)"
    }
}
