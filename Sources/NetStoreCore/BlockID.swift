/// A block's name: the SHA-256 of its bytes.
///
/// The all-zero id stands for a hole (a block of zeros that is not stored), so
/// sparse files and extending truncates cost nothing.
public struct BlockID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let byteCount = 32
    public static let hole = BlockID(unchecked: [UInt8](repeating: 0, count: byteCount))

    public let bytes: [UInt8]

    /// Returns nil unless `bytes` is exactly 32 bytes long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == Self.byteCount * 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        var index = 0
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        self.bytes = out
    }

    public var isHole: Bool { bytes.allSatisfy { $0 == 0 } }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (lhs: BlockID, rhs: BlockID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}

/// A file's content at one version: its size and its block list.
///
/// Block `i` covers bytes `i * Limits.blockSize ..< (i + 1) * Limits.blockSize`;
/// a block shorter than that, a hole, or a missing tail reads as zeros up to `size`.
public struct FileContent: Sendable, Hashable {
    public var version: UInt64
    public var size: UInt64
    public var blocks: [BlockID]

    public init(version: UInt64, size: UInt64, blocks: [BlockID]) {
        self.version = version
        self.size = size
        self.blocks = blocks
    }
}
