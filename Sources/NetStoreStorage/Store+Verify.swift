import Foundation
import GRDB
import NetStoreCore

extension Store {
    /// One page of a block check: what was checked and what failed.
    public struct BlockScan: Sendable, Hashable {
        public var checked = 0
        public var bytes: UInt64 = 0
        public var missing: [BlockID] = []
        public var corrupt: [BlockID] = []
        /// The last id checked (`BlockID.hole` when none): the next page starts after it.
        public var last = BlockID.hole
        public var isLast = false
    }

    /// Reads and hashes up to `limit` referenced blocks whose ids come after
    /// `after`, in id order, stopping early once `byteBudget` bytes were read so
    /// that one page of big blocks stays short. A block the metadata refers to
    /// with neither bytes in the database nor a file is missing; one whose bytes do not hash to its id is corrupt.
    /// Unreferenced blocks are left out: nothing reads them, and the collector
    /// removes them.
    public func checkBlocks(after: BlockID, limit: Int, byteBudget: UInt64 = 64 << 20) throws -> BlockScan {
        precondition(limit >= 1, "a block check page holds at least one block")
        let ids = try read { db in
            try Data.fetchAll(
                db, sql: "SELECT hash FROM blocks WHERE refs > 0 AND hash > ? ORDER BY hash LIMIT ?",
                arguments: [Data(after.bytes), limit]
            ).compactMap { BlockID(bytes: [UInt8]($0)) }
        }
        var scan = BlockScan()
        scan.last = after
        for id in ids {
            switch checkBlock(id) {
            case .good(let size): scan.bytes += UInt64(size)
            case .missing: scan.missing.append(id)
            case .corrupt: scan.corrupt.append(id)
            }
            scan.checked += 1
            scan.last = id
            if scan.bytes >= byteBudget { break }
        }
        // A short read of the table means nothing is left after it; a page cut by the
        // byte budget or filled to the limit may have more.
        scan.isLast = ids.count < limit && scan.checked == ids.count
        return scan
    }

    /// Whether the metadata records this block (referenced or not).
    public func isRecorded(_ id: BlockID) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM blocks WHERE hash = ?)", arguments: [Data(id.bytes)]) == true
        }
    }

    /// Replaces a recorded block's stored bytes (in the database, or its file)
    /// with `bytes` when they are missing or damaged; returns false, touching nothing, when the stored copy is good.
    /// Throws `.invalid` when `bytes` do not hash to `id` and `.noEntry` when
    /// this server does not record the block (there is nothing to repair).
    @discardableResult
    public func repairBlock(_ id: BlockID, bytes: UnsafeRawBufferPointer) throws -> Bool {
        try BlockStore.validate(id, bytes: bytes)
        // Under the collector's lock, so a block being collected is not brought back
        // as a file without a row.
        return try blockFiles.withLock { _ in
            guard try isRecorded(id) else {
                throw NetStoreError(.noEntry, "block \(id.hex) is not recorded on this server: there is nothing to repair")
            }
            if case .good = checkBlock(id) { return false }
            if bytes.count <= Self.smallBlockLimit {
                try write { db in
                    try db.execute(sql: "INSERT OR REPLACE INTO small_blocks (hash, bytes) VALUES (?, ?)", arguments: [Data(id.bytes), Data(bytes)])
                }
            } else {
                try blocks.replace(id, verifiedBytes: bytes)
            }
            logger.notice("repaired block", metadata: ["block": "\(id.hex)"])
            return true
        }
    }
}
