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
    /// "primary" or "backup".
    public var role: String
    public var softwareVersion: String
    public var uptimeSeconds: UInt64
    public var nodeCount: UInt64
    public var userCount: UInt64
    public var blockCount: UInt64
    public var blockBytes: UInt64

    public init(
        role: String, softwareVersion: String, uptimeSeconds: UInt64, nodeCount: UInt64,
        userCount: UInt64, blockCount: UInt64, blockBytes: UInt64
    ) {
        self.role = role
        self.softwareVersion = softwareVersion
        self.uptimeSeconds = uptimeSeconds
        self.nodeCount = nodeCount
        self.userCount = userCount
        self.blockCount = blockCount
        self.blockBytes = blockBytes
    }
}
