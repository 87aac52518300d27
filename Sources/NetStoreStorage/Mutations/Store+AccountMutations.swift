import Foundation
import GRDB
import NetStoreCore

// The account operations, applied inside the transaction `Store.apply` opened.
// NetStoreAuth checks passwords and builds these; the rows live here so that one
// transaction can apply any operation and record the applied log index.
extension Store {
    func addUser(in db: Database, name: String, role: Role, passwordHash: String, now: Int64) throws -> UserInfo {
        try NameRules.validateUserName(name)
        if try Self.userRow(db, name: name) != nil {
            throw NetStoreError(.exists, "a user named '\(name)' already exists: choose another name")
        }
        // users.root_node is NOT NULL and the root needs the account id: insert with a
        // placeholder, create the root, then point the user at it.
        try db.execute(sql: """
            INSERT INTO users (name, role, password_hash, root_node, created_ns, password_changed_ns)
            VALUES (?, ?, ?, 0, ?, ?)
            """, arguments: [name, role.rawValue, passwordHash, now, now])
        let id = AccountID(db.lastInsertedRowID)
        let root = try createRoot(in: db, account: id, uid: 0, gid: 0, now: now)
        try db.execute(sql: "UPDATE users SET root_node = ? WHERE id = ?", arguments: [root, id])
        return UserInfo(id: id, name: name, role: role, rootNode: root, createdNs: now)
    }

    func setPassword(in db: Database, name: String, passwordHash: String, now: Int64) throws {
        guard let row = try Self.userRow(db, name: name) else { throw Self.noSuchUser(name) }
        let id: Int64 = row["id"]
        try db.execute(sql: "UPDATE users SET password_hash = ?, password_changed_ns = ? WHERE id = ?",
                       arguments: [passwordHash, now, id])
        try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [id])
    }

    func removeUser(in db: Database, name: String) throws {
        guard let row = try Self.userRow(db, name: name) else { throw Self.noSuchUser(name) }
        let user = Self.userInfo(row)
        if user.role == .admin {
            let admins = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE role = ?",
                                          arguments: [Role.admin.rawValue]) ?? 0
            if admins <= 1 {
                throw NetStoreError(.notPermitted,
                    "'\(name)' is the last admin and cannot be removed: make another user admin first")
            }
        }
        try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [user.id])
        try deleteAccountTree(in: db, account: user.id)
        try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [user.id])
    }

    func createSession(
        in db: Database, user: AccountID, checkedHash: String, rehash: String?, tokenHash: [UInt8],
        now: Int64, expiresNs: Int64, maxSessions: UInt32
    ) throws -> UserInfo {
        // A password change (or removal) since the check revokes this login too.
        guard let key = Int64(exactly: user),
              let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [key]),
              row["password_hash"] as String == checkedHash
        else { throw NetStoreError(.badCredentials, "wrong user name or password") }
        if let rehash {
            try db.execute(sql: "UPDATE users SET password_hash = ? WHERE id = ?", arguments: [rehash, key])
        }
        try db.execute(sql: "DELETE FROM sessions WHERE user_id = ? AND expires_ns <= ?", arguments: [key, now])
        try db.execute(sql: """
            DELETE FROM sessions WHERE user_id = ? AND token_hash NOT IN
                (SELECT token_hash FROM sessions WHERE user_id = ? ORDER BY created_ns DESC, token_hash LIMIT ?)
            """, arguments: [key, key, max(Int(maxSessions), 1) - 1])
        try db.execute(
            sql: "INSERT INTO sessions (token_hash, user_id, created_ns, expires_ns) VALUES (?, ?, ?, ?)",
            arguments: [Data(tokenHash), key, now, expiresNs])
        return Self.userInfo(row)
    }

    func deleteSession(in db: Database, tokenHash: [UInt8]) throws {
        try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [Data(tokenHash)])
    }

    func pruneSessions(in db: Database, now: Int64) throws -> Int {
        try db.execute(sql: "DELETE FROM sessions WHERE expires_ns <= ?", arguments: [now])
        return db.changesCount
    }

    // MARK: rows

    /// The `users` row named `name`, every column.
    public static func userRow(_ db: Database, name: String) throws -> Row? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name])
    }

    public static func userInfo(_ row: Row) -> UserInfo {
        let rawRole: Int64 = row["role"]
        // An unknown role (a newer schema's) gets the least privilege.
        let role = Role(rawValue: UInt8(clamping: rawRole)) ?? .user
        return UserInfo(id: row["id"], name: row["name"], role: role, rootNode: row["root_node"],
                        createdNs: row["created_ns"])
    }

    public static func noSuchUser(_ name: String) -> NetStoreError {
        NetStoreError(.noEntry, "there is no user named '\(name)': see the list of users")
    }
}
