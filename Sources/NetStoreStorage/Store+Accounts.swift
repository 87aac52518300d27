import Foundation
import GRDB
import NetStoreCore

extension Store {
    // MARK: accounts (called by NetStoreAuth inside its own write transaction)

    /// Creates an account's root directory (mode 0o755) and returns its id.
    public func createRoot(in db: Database, account: AccountID, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeID {
        precondition(Int64(exactly: account) != nil, "account ids are SQLite row ids")
        return try NodeRows.insertNode(
            db, account: account, kind: .directory, mode: 0o755, uid: uid, gid: gid, nlink: 2, now: now
        ).id
    }

    /// Deletes every node and entry of an account and releases their blocks.
    public func deleteAccountTree(in db: Database, account: AccountID) throws {
        guard let account = Int64(exactly: account) else { return }
        var delta: [BlockID: Int] = [:]
        let lists = try Data.fetchCursor(
            db, sql: "SELECT blocks FROM nodes WHERE account = ? AND length(blocks) > 0", arguments: [account])
        while let data = try lists.next() {
            for block in NodeRows.decode(data) where !block.isHole { delta[block, default: 0] -= 1 }
        }
        try NodeRows.adjustRefs(db, delta)
        try db.execute(
            sql: "DELETE FROM entries WHERE parent IN (SELECT id FROM nodes WHERE account = ?)",
            arguments: [account])
        try db.execute(sql: "DELETE FROM nodes WHERE account = ?", arguments: [account])
    }
}
