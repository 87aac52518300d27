import Crypto
import Foundation
import GRDB
import NetStoreCore

// Snapshots of the replicated state (docs/replication.md, "Snapshots") and log
// compaction: what lets a wiped or far-behind server catch up.
extension Store {
    /// A consistent view of the state as it is now; write its body while the store
    /// goes on changing. Call it outside any transaction.
    public func openSnapshot() throws -> StoreSnapshot {
        do {
            return try StoreSnapshot(reader: database.makeSnapshot())
        } catch let error as DatabaseError {
            throw Self.storeError(error, "open a snapshot of the metadata database")
        }
    }

    /// Reads a received body: its position, hash and the blocks it needs, checking
    /// its whole structure (nothing is installed).
    public static func inspectSnapshot(at url: URL) throws -> SnapshotFileInfo {
        let data = try mapped(url)
        var blocks: [BlockID] = []
        let position = try parse(data, table: { _, _ in }, row: { table, values in
            guard table == "blocks" else { return }
            guard case .blob(let hash) = values[0].storage, let id = BlockID(bytes: [UInt8](hash)), !id.isHole else {
                throw SnapshotReader.malformed("a block row does not start with a block id")
            }
            blocks.append(id)
        })
        return SnapshotFileInfo(
            appliedIndex: position.index, appliedTerm: position.term, size: UInt64(data.count),
            sha256: Array(SHA256.hash(data: data)), blocks: blocks)
    }

    /// Replaces the replicated tables with the body at `url` in ONE durable
    /// transaction, and moves the log start and the applied position to the body's
    /// position: log entries after it stay only if the log holds that position
    /// itself, else the whole log goes. Term and vote stay this server's own. Every
    /// block the body refers to must be stored here already. Returns the position.
    @discardableResult
    public func installSnapshot(at url: URL, now: Int64) throws -> (index: UInt64, term: UInt64) {
        let data = try Self.mapped(url)
        defer { accountsChanged() }
        return try blockFiles.withLock { _ in
            do {
                return try database.write { db in
                    // Rows of one table may refer to rows of a later one; checked at commit.
                    try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                    try db.execute(sql: """
                        DELETE FROM sessions; DELETE FROM entries; DELETE FROM users; DELETE FROM nodes;
                        UPDATE blocks SET refs = 0 WHERE refs != 0;
                        """)
                    var insert: Statement?
                    let position = try Self.parse(data, table: { name, columns in
                        insert = try Self.insertStatement(db, table: name, columns: columns)
                    }, row: { table, values in
                        if table == "blocks" {
                            guard case .blob(let hash) = values[0].storage, let id = BlockID(bytes: [UInt8](hash)), try Self.holds(db, id, files: blocks) else {
                                throw NetStoreError(.missingBlocks, "a block the snapshot refers to is not stored on this server: it is sent again")
                            }
                            try insert!.execute(arguments: StatementArguments(values + [now.databaseValue]))
                        } else {
                            try insert!.execute(arguments: StatementArguments(values))
                        }
                    })
                    let (index, term) = (Int64(position.index), Int64(position.term))
                    let held = try Int64.fetchOne(db, sql: "SELECT term FROM log WHERE idx = ?", arguments: [index])
                    if held == term {
                        try db.execute(sql: "DELETE FROM log WHERE idx <= ?", arguments: [index])
                    } else {
                        try db.execute(sql: "DELETE FROM log")
                    }
                    try db.execute(sql: """
                        UPDATE replication SET log_start_index = ?, log_start_term = ?, applied_index = ?, applied_term = ?
                        """, arguments: [index, term, index, term])
                    return position
                }
            } catch let error as DatabaseError {
                if error.resultCode == .SQLITE_FULL || error.resultCode == .SQLITE_IOERR { throw Self.storeError(error, "install a snapshot") }
                throw SnapshotReader.malformed("its rows do not fit this server's tables (\(error.message ?? "\(error.resultCode)"))")
            }
        }
    }

    /// Drops the log up to `index` (applied already) and makes it the log start;
    /// returns the term of the entry there.
    @discardableResult
    public func compactLog(through index: UInt64) throws -> UInt64 {
        try write { db in
            let applied = try appliedIndex(db)
            precondition(index <= applied, "only applied entries can be compacted")
            guard let term = try Int64.fetchOne(db, sql: "SELECT term FROM log WHERE idx = ?", arguments: [Int64(index)]) else {
                throw NetStoreError(.io, "log entry \(index) is not in the log: it cannot become the log start")
            }
            try db.execute(sql: "DELETE FROM log WHERE idx <= ?", arguments: [Int64(index)])
            try db.execute(sql: "UPDATE replication SET log_start_index = ?, log_start_term = ?", arguments: [Int64(index), term])
            return UInt64(term)
        }
    }

    /// A store created before the log existed holds state no log entry explains;
    /// replaying the log would never give it to a backup. Such a store's state
    /// becomes a log start at index 1 (term 0), so a backup that needs entry 1 is
    /// sent a snapshot. True if the store was one. For the primary only: a backup's
    /// own old state is replaced by the primary's snapshot.
    public func adoptPreLogState() throws -> Bool {
        try write { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT applied_index = 0 AND log_start_index = 0 AND NOT EXISTS (SELECT 1 FROM log)
                       AND (EXISTS (SELECT 1 FROM nodes) OR EXISTS (SELECT 1 FROM users))
                FROM replication
                """)!
            guard row[0] as Bool else { return false }
            try db.execute(sql: "UPDATE replication SET log_start_index = 1, log_start_term = 0, applied_index = 1, applied_term = 0")
            return true
        }
    }

    // MARK: reading bodies

    static func mapped(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw NetStoreError(.io, "cannot read the snapshot file \(url.path): \(error.localizedDescription)")
        }
    }

    /// Walks a body: `table` for each table header, `row` for each row; returns the position.
    static func parse(
        _ data: Data, table: (String, [String]) throws -> Void, row: (String, [DatabaseValue]) throws -> Void
    ) throws -> (index: UInt64, term: UInt64) {
        var reader = SnapshotReader(data)
        let version = try reader.u8("the version")
        guard version == SnapshotBody.version else { throw SnapshotReader.malformed("version \(version) is unknown") }
        let index = try reader.integer(UInt64.self, "the position")
        let term = try reader.integer(UInt64.self, "the position")
        let count = Int(try reader.u8("the table count"))
        guard count == SnapshotBody.tables.count else { throw SnapshotReader.malformed("it has \(count) tables, not \(SnapshotBody.tables.count)") }
        for expected in SnapshotBody.tables {
            let name = try reader.string16("a table name")
            guard name == expected.name else { throw SnapshotReader.malformed("table \(name) comes where \(expected.name) belongs") }
            let columnCount = Int(try reader.integer(UInt16.self, "a column count"))
            guard (1...64).contains(columnCount) else { throw SnapshotReader.malformed("table \(name) has \(columnCount) columns") }
            var columns: [String] = []
            for _ in 0..<columnCount { columns.append(try reader.string16("a column name")) }
            try table(name, columns)
            var values: [DatabaseValue] = []
            values.reserveCapacity(columnCount)
            while true {
                let mark = try reader.u8("a row")
                if mark == SnapshotBody.tableEnd { break }
                guard mark == SnapshotBody.rowMark else { throw SnapshotReader.malformed("a row of \(name) starts with \(mark)") }
                values.removeAll(keepingCapacity: true)
                for _ in 0..<columnCount { values.append(try reader.value()) }
                try row(name, values)
            }
        }
        guard reader.isAtEnd else { throw SnapshotReader.malformed("bytes follow its last table") }
        return (index, term)
    }

    /// The INSERT for one table of a body whose columns must be this schema's.
    private static func insertStatement(_ db: Database, table: String, columns: [String]) throws -> Statement {
        switch table {
        case "blocks":
            guard columns == ["hash", "size", "refs"] else { throw SnapshotReader.malformed("its blocks have columns \(columns)") }
            return try db.makeStatement(sql: """
                INSERT INTO blocks (hash, size, refs, stored_ns) VALUES (?, ?, ?, ?)
                ON CONFLICT (hash) DO UPDATE SET refs = excluded.refs
                """)
        case "sqlite_sequence":
            guard columns == ["name", "seq"] else { throw SnapshotReader.malformed("its sequences have columns \(columns)") }
            // Inserting the rows above moved the sequences: the body's values replace them.
            try db.execute(sql: "DELETE FROM sqlite_sequence")
            return try db.makeStatement(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)")
        default:
            // Only the fixed table list reaches here (parse checks the names).
            let local = try db.columns(in: table).map(\.name)
            guard columns == local else { throw SnapshotReader.malformed("table \(table) has columns \(columns), this server \(local)") }
            let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            return try db.makeStatement(sql: "INSERT INTO \(table) (\(list)) VALUES (\(marks))")
        }
    }
}
