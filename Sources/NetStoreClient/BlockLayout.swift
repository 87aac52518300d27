import NetStoreCore

/// How a file of a given size is cut into blocks: block `i` covers
/// `i * blockSize ..< min((i + 1) * blockSize, size)`; only the last may be short.
public struct BlockLayout: Sendable, Hashable {
    public let size: UInt64
    public let blockSize: Int

    public init(size: UInt64, blockSize: Int = Limits.blockSize) {
        precondition(blockSize > 0, "block size must be positive")
        self.size = size
        self.blockSize = blockSize
    }

    /// Zero for an empty file.
    public var blockCount: Int {
        Int((size + UInt64(blockSize) - 1) / UInt64(blockSize))
    }

    /// The bytes of the file block `index` covers.
    public func range(ofBlock index: Int) -> Range<UInt64> {
        precondition(index >= 0 && index < blockCount, "block \(index) out of range")
        let start = UInt64(index) * UInt64(blockSize)
        return start..<min(start + UInt64(blockSize), size)
    }

    /// Every block's range, in order.
    public var ranges: [Range<UInt64>] { (0..<blockCount).map(range(ofBlock:)) }
}
