import Crypto
import Foundation
import NetStoreCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable blocks on local disk, named by their SHA-256 (the store keeps
/// blocks up to `Store.smallBlockLimit` in its database instead).
///
/// A block lives at `blocks/ab/<hex>` (fanned out by its first byte). The 256
/// directories are made when the store opens, so storing a block never creates
/// one: it is written to `blocks/tmp/`, fsync'd, renamed into place and its one
/// directory fsync'd, so a block file is either whole or absent after a crash;
/// `tmp/` is cleared on open. Every read checks the hash.
///
/// Stores written before kept blocks at `blocks/ab/cd/<hex>` (a directory made
/// and fsync'd for most new blocks); such files are still found, read and removed
/// there, and new copies go to the flat place.
public final class BlockStore: Sendable {
    public let directory: URL
    private let root: String
    private let tmp: String
    /// Makes temporary names unique among concurrent writers of the same block.
    private let tmpCounter = Atomic<UInt64>(0)

    public init(directory: URL) throws {
        self.directory = directory
        root = directory.path
        tmp = root + "/tmp"
        try FileIO.makeDirectory(root)
        try FileIO.makeDirectory(tmp)
        var made = false
        for byte in 0..<256 where try FileIO.makeDirectory(root + "/" + Self.hexByte(byte)) { made = true }
        if made { try FileIO.syncDirectory(root) }
        // Leftovers of writes cut short by a crash; no block refers to them.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] {
            try FileIO.removeFile(tmp + "/" + name)
        }
    }

    public static func id(of bytes: UnsafeRawBufferPointer) -> BlockID {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return BlockID(bytes: Array(hasher.finalize()))!
    }

    public static func id(of bytes: [UInt8]) -> BlockID {
        bytes.withUnsafeBytes { id(of: $0) }
    }

    private static func hexByte(_ byte: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[byte >> 4], digits[byte & 15]])
    }

    /// The path a block's file is written to (which may not exist).
    public func path(of id: BlockID) -> String {
        let hex = id.hex
        return "\(root)/\(hex.prefix(2))/\(hex)"
    }

    /// Where stores written before the flat layout kept a block.
    func legacyPath(of id: BlockID) -> String {
        let hex = id.hex
        let utf8 = Array(hex.utf8)
        let second = String(decoding: utf8[2..<4], as: UTF8.self)
        return "\(root)/\(hex.prefix(2))/\(second)/\(hex)"
    }

    /// The block's file: the flat one if present, else a legacy one if present.
    private func existingPath(of id: BlockID) -> String? {
        let flat = path(of: id)
        if FileIO.fileSize(flat) != nil { return flat }
        let legacy = legacyPath(of: id)
        return FileIO.fileSize(legacy) != nil ? legacy : nil
    }

    public func contains(_ id: BlockID) -> Bool {
        existingPath(of: id) != nil
    }

    /// Writes a block durably (temp file, fsync, rename, fsync of the directory).
    /// Throws `.invalid` when `bytes` do not hash to `id`; storing a block twice is a no-op.
    public func write(_ id: BlockID, bytes: UnsafeRawBufferPointer) throws {
        try Self.validate(id, bytes: bytes)
        try store(id, verifiedBytes: bytes)
    }

    /// Checks a block's size limit and hash before anything is written.
    public static func validate(_ id: BlockID, bytes: UnsafeRawBufferPointer) throws(NetStoreError) {
        if bytes.count > Limits.maxBlockSize {
            throw NetStoreError(.invalid, "block \(id.hex) has \(bytes.count) bytes, more than the limit of \(Limits.maxBlockSize)")
        }
        let actual = Self.id(of: bytes)
        if actual != id {
            throw NetStoreError(.invalid, "block \(id.hex) does not match its bytes (their SHA-256 is \(actual.hex)): send the block again")
        }
    }

    /// Writes bytes already known to hash to `id`.
    func store(_ id: BlockID, verifiedBytes bytes: UnsafeRawBufferPointer) throws(NetStoreError) {
        // A file of the right size was written whole (it was renamed into place);
        // a wrong size can only be damage, which a fresh copy repairs. Its writer
        // may not have synced the directory yet, and our caller is about to rely on it.
        if let existing = existingPath(of: id), FileIO.fileSize(existing) == bytes.count {
            try FileIO.syncDirectory((existing as NSString).deletingLastPathComponent)
            return
        }
        try replace(id, verifiedBytes: bytes)
    }

    /// Writes a fresh copy of a block (bytes known to hash to `id`) over whatever
    /// its file holds, atomically: a reader sees the old file or the new one.
    func replace(_ id: BlockID, verifiedBytes bytes: UnsafeRawBufferPointer) throws(NetStoreError) {
        let final = path(of: id)
        let directory = (final as NSString).deletingLastPathComponent
        let counter = tmpCounter.add(1, ordering: .relaxed).newValue
        let temporary = "\(tmp)/\(id.hex).\(getpid()).\(counter)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw FileIO.error(errno, "create block file \(temporary)") }
        do throws(NetStoreError) {
            try FileIO.writeBypassingCache(fd, bytes, path: temporary)
            if fsync(fd) != 0 { throw FileIO.error(errno, "sync block file \(temporary)") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)

        do throws(NetStoreError) {
            // Made on open; only a directory removed since then is made again here.
            if try FileIO.makeDirectory(directory) { try FileIO.syncDirectory(root) }
            if rename(temporary, final) != 0 { throw FileIO.error(errno, "move block file into \(final)") }
        } catch {
            unlink(temporary)
            throw error
        }
        try FileIO.syncDirectory(directory)
        // A damaged legacy copy would otherwise stay behind, shadowed by this one.
        try FileIO.removeFile(legacyPath(of: id))
    }

    /// Reads and verifies a block: `.noEntry` if absent, `.corruptBlock` if its bytes do not match `id`.
    public func read(_ id: BlockID) throws -> [UInt8] {
        try readVerified(id)
    }

    func readVerified(_ id: BlockID) throws(NetStoreError) -> [UInt8] {
        let file = existingPath(of: id) ?? path(of: id)
        let bytes: [UInt8]?
        do throws(NetStoreError) {
            bytes = try FileIO.readAll(file, limit: Limits.maxBlockSize)
        } catch where error.code == .noEntry {
            throw NetStoreError(.noEntry, "block \(id.hex) is not stored on this server")
        }
        guard let bytes, Self.id(of: bytes) == id else {
            throw NetStoreError(.corruptBlock, "block \(id.hex) failed its hash check (\(file)): this copy is damaged; restore it from a replica")
        }
        return bytes
    }

    /// What a check of a block's file finds.
    public enum Condition: Sendable, Hashable {
        /// The file's bytes hash to the id; `size` bytes were read.
        case good(size: Int)
        case missing
        case corrupt
    }

    /// Reads a block's file and checks its hash.
    public func check(_ id: BlockID) -> Condition {
        do throws(NetStoreError) {
            return .good(size: try readVerified(id).count)
        } catch {
            switch error.code {
            case .noEntry: return .missing
            case .corruptBlock: return .corrupt
            // An unreadable file is as bad as a damaged one: a fresh copy replaces it.
            default: return .corrupt
            }
        }
    }

    public func remove(_ id: BlockID) throws {
        try FileIO.removeFile(path(of: id))
        try FileIO.removeFile(legacyPath(of: id))
    }
}
