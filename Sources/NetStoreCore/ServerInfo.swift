/// STATFS: capacity as statvfs(3) reports it.
public struct FileSystemStats: Sendable, Hashable {
    public var blockSize: UInt32
    public var totalBytes: UInt64
    public var freeBytes: UInt64
    public var availableBytes: UInt64
    public var totalFiles: UInt64
    public var freeFiles: UInt64
    public var maxNameLength: UInt32

    public init(
        blockSize: UInt32, totalBytes: UInt64, freeBytes: UInt64, availableBytes: UInt64,
        totalFiles: UInt64, freeFiles: UInt64, maxNameLength: UInt32
    ) {
        self.blockSize = blockSize
        self.totalBytes = totalBytes
        self.freeBytes = freeBytes
        self.availableBytes = availableBytes
        self.totalFiles = totalFiles
        self.freeFiles = freeFiles
        self.maxNameLength = maxNameLength
    }
}

/// STATUS: one server's view of itself, for `netstore status`.
public struct ServerStatus: Sendable, Hashable {
    /// "primary", "backup" or "candidate" (during a promotion).
    public var role: String
    public var softwareVersion: String
    public var uptimeSeconds: UInt64
    public var nodeCount: UInt64
    public var userCount: UInt64
    public var blockCount: UInt64
    public var blockBytes: UInt64
    /// Replication: the current term, the last entry in this server's log, how far
    /// it knows the log committed (durable on a majority) and how far it applied.
    public var term: UInt64
    public var lastIndex: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64

    public init(
        role: String, softwareVersion: String, uptimeSeconds: UInt64, nodeCount: UInt64,
        userCount: UInt64, blockCount: UInt64, blockBytes: UInt64,
        term: UInt64 = 0, lastIndex: UInt64 = 0, commitIndex: UInt64 = 0, appliedIndex: UInt64 = 0
    ) {
        self.term = term
        self.lastIndex = lastIndex
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.role = role
        self.softwareVersion = softwareVersion
        self.uptimeSeconds = uptimeSeconds
        self.nodeCount = nodeCount
        self.userCount = userCount
        self.blockCount = blockCount
        self.blockBytes = blockBytes
    }
}

/// DIGEST: a SHA-256 over this server's replicated state (metadata, accounts,
/// referenced blocks) at `appliedIndex`; servers that applied the same index agree.
public struct StateDigest: Sendable, Hashable {
    public var appliedIndex: UInt64
    public var sha256: [UInt8]

    public init(appliedIndex: UInt64, sha256: [UInt8]) {
        precondition(sha256.count == 32, "a SHA-256 is 32 bytes")
        self.appliedIndex = appliedIndex
        self.sha256 = sha256
    }

    public var hex: String {
        sha256.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
