import Crypto
import Foundation
import GRDB
import NetStoreCore

/// The byte format of a snapshot body (docs/replication.md, "Snapshots"): the
/// replicated tables as typed rows, so a backup can replace its own tables' contents
/// in one transaction, whatever its SQLite file looks like.
///
///     body  = version u8 (1), applied index u64, applied term u64, table count u8, table*
///     table = name string16, column count u16, column name string16 *, row*, 0x45
///     row   = 0x52, value * (one per column)
///     value = 0 | 1 int64 | 2 double (IEEE bits) | 3 u32 length + UTF-8 | 4 u32 length + bytes
///
/// Integers are big-endian. Rows come in primary-key order, so equal states give
/// equal bodies (and equal SHA-256s).
enum SnapshotBody {
    static let version: UInt8 = 1
    static let rowMark: UInt8 = 0x52
    static let tableEnd: UInt8 = 0x45

    /// The replicated tables, in the order they are dumped and installed: parents
    /// before children, and `sqlite_sequence` last (inserting rows moves it).
    /// Server-local facts are left out: `meta`, when blocks were stored, unreferenced
    /// blocks, the log and the replication table.
    static let tables: [(name: String, sql: String)] = [
        ("nodes", "SELECT * FROM nodes ORDER BY id"),
        ("entries", "SELECT * FROM entries ORDER BY id"),
        ("users", "SELECT * FROM users ORDER BY id"),
        ("sessions", "SELECT * FROM sessions ORDER BY token_hash"),
        ("blocks", "SELECT hash, size, refs FROM blocks WHERE refs != 0 ORDER BY hash"),
        ("sqlite_sequence", "SELECT name, seq FROM sqlite_sequence ORDER BY name"),
    ]

    /// Longest string or blob value accepted when reading (a block list of the
    /// largest file is the longest value the schema holds).
    static let maxValueLength = Limits.maxBlocksPerCommit * BlockID.byteCount + 1024
}

/// Writes a body to a file through a buffer, hashing as it goes.
struct SnapshotWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var hasher = SHA256()
    private(set) var size: UInt64 = 0
    /// The first write that failed (disk full, I/O); `finish` reports it.
    private var failure: (any Error)?

    init(handle: FileHandle) {
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    mutating func u8(_ value: UInt8) { buffer.append(value); flushIfFull() }
    mutating func u16(_ value: UInt16) { append(bigEndian: value) }
    mutating func u32(_ value: UInt32) { append(bigEndian: value) }
    mutating func u64(_ value: UInt64) { append(bigEndian: value) }

    mutating func string16(_ string: String) {
        let utf8 = Array(string.utf8)
        precondition(utf8.count <= Int(UInt16.max), "table and column names are short")
        u16(UInt16(utf8.count))
        bytes(utf8)
    }

    mutating func value(_ value: DatabaseValue) {
        switch value.storage {
        case .null:
            u8(0)
        case .int64(let n):
            u8(1)
            u64(UInt64(bitPattern: n))
        case .double(let d):
            u8(2)
            u64(d.bitPattern)
        case .string(let s):
            u8(3)
            let utf8 = Array(s.utf8)
            u32(UInt32(utf8.count))
            bytes(utf8)
        case .blob(let data):
            u8(4)
            u32(UInt32(data.count))
            bytes([UInt8](data))
        }
    }

    mutating func bytes(_ bytes: [UInt8]) {
        buffer += bytes
        flushIfFull()
    }

    private mutating func append<T: FixedWidthInteger>(bigEndian value: T) {
        withUnsafeBytes(of: value.bigEndian) { buffer += $0 }
        flushIfFull()
    }

    private mutating func flushIfFull() {
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        if failure == nil {
            do {
                try handle.write(contentsOf: buffer)
            } catch {
                failure = error
            }
        }
        hasher.update(data: buffer)
        size += UInt64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and returns the SHA-256 of everything written.
    mutating func finish() throws -> [UInt8] {
        flush()
        if let failure {
            throw NetStoreError(.io, "cannot write a snapshot: \(failure.localizedDescription); free space on the data disk")
        }
        return Array(hasher.finalize())
    }
}

/// Reads a body from memory (a mapped file), checking every length.
struct SnapshotReader {
    private let data: Data
    private var offset: Int

    init(_ data: Data) {
        self.data = data
        offset = data.startIndex
    }

    var isAtEnd: Bool { offset == data.endIndex }

    private mutating func take(_ count: Int, _ what: String) throws -> Data {
        guard count >= 0, data.endIndex - offset >= count else { throw Self.malformed("it ends inside \(what)") }
        defer { offset += count }
        return data[offset..<offset + count]
    }

    mutating func u8(_ what: String) throws -> UInt8 { try take(1, what).first! }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        var value: T = 0
        for byte in try take(MemoryLayout<T>.size, what) { value = value << 8 | T(byte) }
        return value
    }

    mutating func string16(_ what: String) throws -> String {
        let length = Int(try integer(UInt16.self, what))
        guard let string = String(data: try take(length, what), encoding: .utf8) else { throw Self.malformed("\(what) is not UTF-8") }
        return string
    }

    mutating func value() throws -> DatabaseValue {
        let tag = try u8("a value")
        switch tag {
        case 0: return .null
        case 1: return Int64(bitPattern: try integer(UInt64.self, "an integer")).databaseValue
        case 2: return Double(bitPattern: try integer(UInt64.self, "a real")).databaseValue
        case 3, 4:
            let blob = tag == 4
            let length = Int(try integer(UInt32.self, "a value's length"))
            guard length <= SnapshotBody.maxValueLength else { throw Self.malformed("a value of \(length) bytes is too long") }
            let bytes = try take(length, "a value")
            if blob { return Data(bytes).databaseValue }
            guard let string = String(data: bytes, encoding: .utf8) else { throw Self.malformed("a text value is not UTF-8") }
            return string.databaseValue
        default:
            throw Self.malformed("unknown value type \(tag)")
        }
    }

    static func malformed(_ why: String) -> NetStoreError {
        NetStoreError(.protocolError, "the snapshot is malformed: \(why); it is discarded and sent again")
    }
}
