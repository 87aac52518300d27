import Foundation
import GRDB
import NetStoreCore

/// Row mapping and the small queries every namespace operation is built from.
///
/// All of them run inside a transaction the caller opened; none reads a clock.
enum NodeRows {
    /// The columns `attributes(_:at:)` decodes, in order.
    static let columns = "id, kind, mode, uid, gid, nlink, size, atime_ns, mtime_ns, ctime_ns, version, rdev"
    static let joinedColumns = "n.id, n.kind, n.mode, n.uid, n.gid, n.nlink, n.size, n.atime_ns, n.mtime_ns, n.ctime_ns, n.version, n.rdev"

    /// One READDIR page: entries after a cookie, in id order, with their nodes'
    /// attributes. Walks the `entries_parent_id` index; arguments: parent, cookie, limit.
    static let pageQuery = """
        SELECT e.id, e.name, \(joinedColumns)
        FROM entries e JOIN nodes n ON n.id = e.node
        WHERE e.parent = ? AND e.id > ? ORDER BY e.id LIMIT ?
        """

    static func attributes(_ row: Row, at start: Int = 0) -> NodeAttributes {
        attributes { row[start + $0] }
    }

    /// The attributes from `column(i)`, the i-th of `columns`.
    static func attributes(_ column: (Int) -> Int64) -> NodeAttributes {
        let rawKind = column(1)
        guard let kind = NodeKind(rawValue: UInt8(truncatingIfNeeded: rawKind)) else {
            preconditionFailure("node \(column(0)) has unknown kind \(rawKind)")
        }
        return NodeAttributes(
            id: NodeID(column(0)),
            kind: kind,
            mode: UInt32(truncatingIfNeeded: column(2)),
            uid: UInt32(truncatingIfNeeded: column(3)),
            gid: UInt32(truncatingIfNeeded: column(4)),
            nlink: UInt32(truncatingIfNeeded: column(5)),
            size: UInt64(column(6)),
            atimeNs: column(7),
            mtimeNs: column(8),
            ctimeNs: column(9),
            version: UInt64(column(10)),
            // Stored as the bit pattern: SQLite integers are signed.
            rdev: UInt64(bitPattern: column(11))
        )
    }

    /// A wire id as a row id; nil for ids no row can have.
    static func key(_ id: UInt64) -> Int64? {
        guard id > 0, let key = Int64(exactly: id) else { return nil }
        return key
    }

    // MARK: nodes

    static func node(_ db: Database, _ id: NodeID, account: AccountID) throws -> NodeAttributes? {
        guard let key = key(id), let account = Int64(exactly: account) else { return nil }
        return try NodeCursor.one(
            db.cachedStatement(sql: "SELECT 0, \(columns) FROM nodes WHERE id = ? AND account = ?"),
            arguments: [key, account])?.node
    }

    /// The node, or `.noEntry` if it does not exist or belongs to another account.
    static func require(_ db: Database, _ id: NodeID, account: AccountID) throws -> NodeAttributes {
        guard let node = try node(db, id, account: account) else {
            throw NetStoreError(.noEntry, "node \(id) does not exist")
        }
        return node
    }

    static func requireDirectory(_ db: Database, _ id: NodeID, account: AccountID) throws -> NodeAttributes {
        let node = try require(db, id, account: account)
        guard node.kind == .directory else {
            throw NetStoreError(.notDirectory, "node \(id) is not a directory")
        }
        return node
    }

    static func insertNode(
        _ db: Database, account: AccountID, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32,
        nlink: UInt32, size: UInt64 = 0, target: String? = nil, rdev: UInt64 = 0, now: Int64
    ) throws -> NodeAttributes {
        try db.cachedStatement(sql: """
            INSERT INTO nodes (account, kind, mode, uid, gid, nlink, size, atime_ns, mtime_ns, ctime_ns, version, target, rdev)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
            """).execute(arguments: [
                Int64(account), Int64(kind.rawValue), Int64(mode & 0o7777), Int64(uid), Int64(gid),
                Int64(nlink), Int64(size), now, now, now, target, Int64(bitPattern: rdev),
            ])
        return NodeAttributes(
            id: NodeID(db.lastInsertedRowID), kind: kind, mode: mode & 0o7777, uid: uid, gid: gid,
            nlink: nlink, size: size, atimeNs: now, mtimeNs: now, ctimeNs: now, version: 0, rdev: rdev)
    }

    /// A directory's content changed: mtime and ctime move, and its link count
    /// follows the subdirectories added or removed.
    static func touchDirectory(_ db: Database, _ id: NodeID, nlinkDelta: Int = 0, now: Int64) throws {
        try db.cachedStatement(sql: "UPDATE nodes SET nlink = nlink + ?, mtime_ns = ?, ctime_ns = ? WHERE id = ?")
            .execute(arguments: [nlinkDelta, now, now, Int64(id)])
    }

    static func touchChange(_ db: Database, _ id: NodeID, nlinkDelta: Int = 0, now: Int64) throws {
        try db.cachedStatement(sql: "UPDATE nodes SET nlink = nlink + ?, ctime_ns = ? WHERE id = ?")
            .execute(arguments: [nlinkDelta, now, Int64(id)])
    }

    /// One name of `node` went away: the node loses a link, and is deleted
    /// (its blocks released) when none is left. A directory has no other name.
    static func dropLink(_ db: Database, _ node: NodeAttributes, now: Int64) throws {
        if node.kind == .directory || node.nlink <= 1 {
            try deleteNode(db, node.id)
        } else {
            try touchChange(db, node.id, nlinkDelta: -1, now: now)
        }
    }

    static func deleteNode(_ db: Database, _ id: NodeID) throws {
        let list = try blockList(db, id)
        var delta: [BlockID: Int] = [:]
        for block in list where !block.isHole { delta[block, default: 0] -= 1 }
        try adjustRefs(db, delta)
        try db.cachedStatement(sql: "DELETE FROM nodes WHERE id = ?").execute(arguments: [Int64(id)])
    }

    // MARK: entries

    /// The entry `name` in `parent` and its node's attributes.
    static func entry(_ db: Database, parent: NodeID, name: String) throws -> (id: Int64, node: NodeAttributes)? {
        try NodeCursor.one(
            db.cachedStatement(sql: """
                SELECT e.id, \(joinedColumns) FROM entries e JOIN nodes n ON n.id = e.node
                WHERE e.parent = ? AND e.name = ?
                """),
            arguments: [Int64(parent), name])
    }

    static func requireEntry(_ db: Database, parent: NodeID, name: String) throws -> (id: Int64, node: NodeAttributes) {
        guard let found = try entry(db, parent: parent, name: name) else {
            throw NetStoreError(.noEntry, "'\(name)' does not exist in directory \(parent)")
        }
        return found
    }

    static func insertEntry(_ db: Database, parent: NodeID, name: String, node: NodeID) throws {
        try db.cachedStatement(sql: "INSERT INTO entries (parent, name, node) VALUES (?, ?, ?)")
            .execute(arguments: [Int64(parent), name, Int64(node)])
    }

    static func deleteEntry(_ db: Database, id: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM entries WHERE id = ?").execute(arguments: [id])
    }

    static func isEmptyDirectory(_ db: Database, _ id: NodeID) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT NOT EXISTS (SELECT 1 FROM entries WHERE parent = ?)"),
            arguments: [Int64(id)]) ?? true
    }

    /// The directory holding directory `id`, or nil for a root.
    static func parentOfDirectory(_ db: Database, _ id: NodeID) throws -> NodeID? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT parent FROM entries WHERE node = ? LIMIT 1"),
            arguments: [Int64(id)]).map { NodeID($0) }
    }

    // MARK: block lists

    static func blockList(_ db: Database, _ id: NodeID) throws -> [BlockID] {
        let data = try Data.fetchOne(
            db.cachedStatement(sql: "SELECT blocks FROM nodes WHERE id = ?"), arguments: [Int64(id)])
        return decode(data ?? Data())
    }

    static func encode(_ blocks: [BlockID]) -> Data {
        var data = Data(capacity: blocks.count * BlockID.byteCount)
        for block in blocks { data.append(contentsOf: block.bytes) }
        return data
    }

    static func decode(_ data: Data) -> [BlockID] {
        precondition(data.count % BlockID.byteCount == 0, "a block list is a whole number of ids")
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: BlockID.byteCount).map {
            BlockID(bytes: Array(bytes[$0 ..< $0 + BlockID.byteCount]))!
        }
    }

    /// Adds `delta[block]` to each block's reference count (in a fixed order, so
    /// every server does the same writes).
    static func adjustRefs(_ db: Database, _ delta: [BlockID: Int]) throws {
        let statement = try db.cachedStatement(sql: "UPDATE blocks SET refs = refs + ? WHERE hash = ?")
        for (block, change) in delta.sorted(by: { $0.key < $1.key }) where change != 0 {
            try statement.execute(arguments: [change, Data(block.bytes)])
        }
    }
}

/// Reads `SELECT <an id>, <NodeRows.columns>` rows straight from the statement:
/// the lookups every change makes (a node, a directory entry) without GRDB's
/// `Row`, whose set-up per fetch (a dictionary of lowercased column names)
/// cost more than the lookup itself.
final class NodeCursor: DatabaseCursor {
    typealias Element = (id: Int64, node: NodeAttributes)
    let _statement: Statement
    var _isDone = false

    private init(_ statement: Statement, arguments: StatementArguments) throws {
        _statement = statement
        try statement.setArguments(arguments)  // resets the statement, then binds
    }

    /// The only row, or nil. The statement is stepped to its end, so it holds
    /// nothing open afterwards.
    static func one(_ statement: Statement, arguments: StatementArguments) throws -> Element? {
        let cursor = try NodeCursor(statement, arguments: arguments)
        let first = try cursor.next()
        while try cursor.next() != nil {}
        return first
    }

    func _element(sqliteStatement: SQLiteStatement) throws -> Element {
        func column(_ index: Int) -> Int64 { Int64(sqliteStatement: sqliteStatement, index: CInt(index)) }
        return (column(0), NodeRows.attributes { column(1 + $0) })
    }
}
