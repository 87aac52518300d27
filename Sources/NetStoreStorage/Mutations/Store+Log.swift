import Foundation
import GRDB
import NetStoreCore

/// One entry of the replicated log as stored: an empty payload is a term's first entry.
public struct StoredLogEntry: Sendable, Hashable {
    public var index: UInt64
    public var term: UInt64
    public var payload: [UInt8]

    public init(index: UInt64, term: UInt64, payload: [UInt8]) {
        self.index = index
        self.term = term
        self.payload = payload
    }
}

/// What a server finds of its replication state when it starts.
public struct StoredReplicationState: Sendable, Hashable {
    public var term: UInt64
    public var votedFor: UInt32?
    public var logStartIndex: UInt64
    public var logStartTerm: UInt64
    public var appliedIndex: UInt64
    public var appliedTerm: UInt64
    /// The log after its start, in order.
    public var entries: [StoredLogEntry]
}

// The log lives in the metadata database (table `log`), so that a write of
// entries is one transaction, made durable by SQLite's fsync (synchronous=FULL).
extension Store {
    public func loadReplicationState() throws -> StoredReplicationState {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM replication")!
            let start: Int64 = row["log_start_index"]
            let entries = try Row.fetchAll(
                db, sql: "SELECT idx, term, payload FROM log WHERE idx > ? ORDER BY idx", arguments: [start]
            ).map { row in
                StoredLogEntry(index: UInt64(row[0] as Int64), term: UInt64(row[1] as Int64), payload: [UInt8](row[2] as Data))
            }
            return StoredReplicationState(
                term: UInt64(row["term"] as Int64), votedFor: (row["voted_for"] as Int64?).map { UInt32($0) },
                logStartIndex: UInt64(start), logStartTerm: UInt64(row["log_start_term"] as Int64),
                appliedIndex: UInt64(row["applied_index"] as Int64), appliedTerm: UInt64(row["applied_term"] as Int64),
                entries: entries)
        }
    }

    /// Stores the term and vote durably (the transaction's commit is fsync'd).
    public func saveHardState(term: UInt64, votedFor: UInt32?) throws {
        try write { db in
            try db.execute(sql: "UPDATE replication SET term = ?, voted_for = ?",
                           arguments: [Int64(term), votedFor.map { Int64($0) }])
        }
    }

    /// Drops the log from `truncatingFrom` on (if set) and appends `entries`, in one
    /// durable transaction: several callers' entries share its one fsync.
    ///
    /// `blocks` (small blocks whose ids were computed from these bytes, such as
    /// the new files' contents the entries refer to) are stored in the same
    /// transaction: durable with the entries, at no cost of their own.
    public func writeLog(truncatingFrom: UInt64?, entries: [StoredLogEntry],
                         blocks: [(id: BlockID, bytes: [UInt8])] = [], now: Int64 = 0) throws {
        try Self.checkSmall(blocks)
        try write { db in
            for block in blocks {
                try block.bytes.withUnsafeBytes { try Self.storeSmall(db, block.id, bytes: $0, now: now) }
            }
            if let from = truncatingFrom {
                try db.execute(sql: "DELETE FROM log WHERE idx >= ?", arguments: [Int64(from)])
            }
            let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO log (idx, term, payload) VALUES (?, ?, ?)")
            for entry in entries {
                try insert.execute(arguments: [Int64(entry.index), Int64(entry.term), Data(entry.payload)])
            }
        }
    }
}
