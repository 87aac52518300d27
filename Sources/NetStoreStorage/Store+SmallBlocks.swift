import Foundation
import GRDB
import NetStoreCore

/// Blocks of up to `smallBlockLimit` bytes are kept in the database, in the
/// same transaction as their row, instead of as a file each: a small file's
/// block then costs no inode, no file and directory fsync, no rename, and it is
/// durable with the row that records it. Larger blocks stay files (`BlockStore`).
extension Store {
    /// The largest block kept in the database (a small file's content, as the
    /// mount commits it inline, fits). Reads look a block up by its hash, so a
    /// store written with a lower limit reads the same.
    public static let smallBlockLimit = Limits.inlineContentLimit

    /// Stores a small block (bytes known to hash to `id`) with its row. Storing
    /// it again is cheap, and replaces a copy that no longer matches (damage).
    static func storeSmall(_ db: Database, _ id: BlockID, bytes: UnsafeRawBufferPointer, now: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO small_blocks (hash, bytes) VALUES (?, ?)
            ON CONFLICT (hash) DO UPDATE SET bytes = excluded.bytes WHERE small_blocks.bytes != excluded.bytes
            """).execute(arguments: [Data(id.bytes), Data(bytes)])
        try record(db, id, size: bytes.count, now: now)
    }

    /// Stores small blocks whose ids the caller has just computed from these
    /// bytes (a batch of new files' contents), all in one transaction, not
    /// fsync'd (as `putBlock`: the log entry that refers to them is).
    public func putHashedSmallBlocks(_ blocks: [(id: BlockID, bytes: [UInt8])], now: Int64) throws {
        guard !blocks.isEmpty else { return }
        try Self.checkSmall(blocks)
        try writeWithoutSync { db in
            for block in blocks {
                try block.bytes.withUnsafeBytes { try Self.storeSmall(db, block.id, bytes: $0, now: now) }
            }
        }
    }

    /// Refuses blocks too large to be kept in the database.
    public static func checkSmall(_ blocks: [(id: BlockID, bytes: [UInt8])]) throws(NetStoreError) {
        for block in blocks where block.bytes.count > smallBlockLimit {
            throw NetStoreError(.invalid, "block \(block.id.hex) has \(block.bytes.count) bytes, more than a small block's \(smallBlockLimit)")
        }
    }

    /// The bytes of a block kept in the database, checked against `id`; nil when
    /// it is not kept there (it may be a file).
    static func smallBlock(_ db: Database, _ id: BlockID) throws -> [UInt8]? {
        guard let data = try Data.fetchOne(
            db.cachedStatement(sql: "SELECT bytes FROM small_blocks WHERE hash = ?"), arguments: [Data(id.bytes)])
        else { return nil }
        let bytes = [UInt8](data)
        guard BlockStore.id(of: bytes) == id else {
            throw NetStoreError(.corruptBlock, "block \(id.hex) failed its hash check (its copy in the database): this copy is damaged; restore it from a replica")
        }
        return bytes
    }

    /// A block's verified bytes, from the database or its file.
    func storedBlock(_ id: BlockID) throws -> [UInt8] {
        if let bytes = try read({ db in try Self.smallBlock(db, id) }) { return bytes }
        return try blocks.readVerified(id)
    }

    /// Whether the block's bytes are here, in the database or as a file.
    static func holds(_ db: Database, _ id: BlockID, files: BlockStore) throws -> Bool {
        let kept = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM small_blocks WHERE hash = ?)"), arguments: [Data(id.bytes)])
        return kept == true || files.contains(id)
    }

    /// Checks a block's stored bytes, wherever they are.
    func checkBlock(_ id: BlockID) -> BlockStore.Condition {
        do {
            guard let bytes = try read({ db in try Self.smallBlock(db, id) }) else { return blocks.check(id) }
            return .good(size: bytes.count)
        } catch {
            return .corrupt
        }
    }
}
