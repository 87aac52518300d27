import NetStoreCore

/// Big-endian fields appended to a byte array (the operation codec's writer).
struct MutationWriter {
    var bytes: [UInt8] = []
    /// The first field found over its limit (nothing of it is written).
    var overLimit: NetStoreError?

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { integer(value) }
    mutating func u32(_ value: UInt32) { integer(value) }
    mutating func u64(_ value: UInt64) { integer(value) }
    mutating func i64(_ value: Int64) { integer(value) }

    private mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// A u16 length and UTF-8 bytes; a string over `limit` is noted in `overLimit`.
    mutating func string(_ value: String, limit: Int) {
        let utf8 = Array(value.utf8)
        guard utf8.count <= limit else {
            overLimit = overLimit ?? NetStoreError(.nameTooLong, "'\(value.prefix(32))…' has \(utf8.count) bytes, more than the limit of \(limit)")
            return
        }
        u16(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func optionalString(_ value: String?, limit: Int) {
        guard let value else { return u8(0) }
        u8(1)
        string(value, limit: limit)
    }

    mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }
}

/// Reads what `MutationWriter` wrote, checking every length against the bytes
/// left and its limit: malformed input throws, it never traps.
struct MutationReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }

    mutating func u8() throws(NetStoreError) -> UInt8 { try integer() }
    mutating func u16() throws(NetStoreError) -> UInt16 { try integer() }
    mutating func u32() throws(NetStoreError) -> UInt32 { try integer() }
    mutating func u64() throws(NetStoreError) -> UInt64 { try integer() }
    mutating func i64() throws(NetStoreError) -> Int64 { try integer() }

    private mutating func integer<T: FixedWidthInteger>() throws(NetStoreError) -> T {
        let size = MemoryLayout<T>.size
        let slice = try take(size)
        var value: T = 0
        for byte in slice { value = value << 8 | T(byte) }
        return value
    }

    mutating func take(_ count: Int) throws(NetStoreError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - index >= count else {
            throw Self.malformed("it ends after \(bytes.count) bytes, inside a field")
        }
        defer { index += count }
        return bytes[index ..< index + count]
    }

    mutating func string(limit: Int, _ field: String) throws(NetStoreError) -> String {
        let count = Int(try u16())
        guard count <= limit else { throw Self.malformed("its \(field) has \(count) bytes, over the limit of \(limit)") }
        let utf8 = try take(count)
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw Self.malformed("its \(field) is not UTF-8")
        }
        return text
    }

    mutating func optionalString(limit: Int, _ field: String) throws(NetStoreError) -> String? {
        switch try u8() {
        case 0: return nil
        case 1: return try string(limit: limit, field)
        case let flag: throw Self.malformed("its \(field) has presence flag \(flag)")
        }
    }

    static func malformed(_ reason: String) -> NetStoreError {
        NetStoreError(.protocolError, "a log operation is malformed: \(reason)")
    }
}
