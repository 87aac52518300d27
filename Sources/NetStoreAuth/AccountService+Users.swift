import Foundation
import GRDB
import NetStoreCore
import NetStoreStorage

/// A user row with its password hash (which never leaves this module).
struct UserRecord: Sendable {
    var info: UserInfo
    var passwordHash: String
}

extension AccountService {
    /// Creates a user and, in the same transaction, their root directory.
    public func addUser(name: String, password: String, role: Role) throws -> UserInfo {
        try NameRules.validateUserName(name)
        try NameRules.validatePassword(password)
        let passwordHash = hasher.hash(password)
        let now = clock()
        let user = try store.database.write { db -> UserInfo in
            if try Self.fetchUser(db, name: name) != nil {
                throw NetStoreError(.exists, "a user named '\(name)' already exists: choose another name")
            }
            // users.root_node is NOT NULL and the root needs the account id: insert with a
            // placeholder, create the root, then point the user at it.
            try db.execute(sql: """
                INSERT INTO users (name, role, password_hash, root_node, created_ns, password_changed_ns)
                VALUES (?, ?, ?, 0, ?, ?)
                """, arguments: [name, role.rawValue, passwordHash, now, now])
            let id = AccountID(db.lastInsertedRowID)
            let root = try store.createRoot(in: db, account: id, uid: 0, gid: 0, now: now)
            try db.execute(sql: "UPDATE users SET root_node = ? WHERE id = ?", arguments: [root, id])
            return UserInfo(id: id, name: name, role: role, rootNode: root, createdNs: now)
        }
        logger.notice("user added", metadata: ["user": "\(name)", "role": "\(role.name)"])
        return user
    }

    /// Sets a password and revokes all that user's sessions.
    public func setPassword(name: String, newPassword: String) throws {
        try NameRules.validatePassword(newPassword)
        let passwordHash = hasher.hash(newPassword)
        let now = clock()
        try store.database.write { db in
            guard let record = try Self.fetchUser(db, name: name) else { throw Self.noSuchUser(name) }
            try db.execute(sql: "UPDATE users SET password_hash = ?, password_changed_ns = ? WHERE id = ?",
                           arguments: [passwordHash, now, record.info.id])
            try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [record.info.id])
        }
        logger.notice("password changed, sessions revoked", metadata: ["user": "\(name)"])
    }

    /// True when `password` is the user's. An unknown user gives false, after the same
    /// scrypt work, so that this cannot tell which names exist. Not throttled: callers
    /// use it for users who are already authenticated.
    public func checkPassword(name: String, password: String) throws -> Bool {
        let record = try store.database.read { db in try Self.fetchUser(db, name: name) }
        let matches = hasher.verify(password, against: record?.passwordHash ?? dummyHash)
        return record != nil && matches
    }

    /// Every user, ordered by name (at most `Limits.maxUsersListed`).
    public func listUsers() throws -> [UserInfo] {
        try store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name LIMIT ?",
                             arguments: [Limits.maxUsersListed]).map(Self.userInfo)
        }
    }

    /// Removes a user, their sessions and their whole tree; the last admin cannot be removed.
    public func removeUser(name: String) throws {
        try store.database.write { db in
            guard let record = try Self.fetchUser(db, name: name) else { throw Self.noSuchUser(name) }
            if record.info.role == .admin {
                let admins = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE role = ?",
                                              arguments: [Role.admin.rawValue]) ?? 0
                if admins <= 1 {
                    throw NetStoreError(.notPermitted,
                        "'\(name)' is the last admin and cannot be removed: make another user admin first")
                }
            }
            try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [record.info.id])
            try store.deleteAccountTree(in: db, account: record.info.id)
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [record.info.id])
        }
        logger.notice("user removed", metadata: ["user": "\(name)"])
    }

    public func user(named name: String) throws -> UserInfo {
        guard let record = try store.database.read({ db in try Self.fetchUser(db, name: name) }) else {
            throw Self.noSuchUser(name)
        }
        return record.info
    }

    // MARK: rows

    static func noSuchUser(_ name: String) -> NetStoreError {
        NetStoreError(.noEntry, "there is no user named '\(name)': see the list of users")
    }

    static func fetchUser(_ db: Database, name: String) throws -> UserRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]) else {
            return nil
        }
        return UserRecord(info: userInfo(row), passwordHash: row["password_hash"])
    }

    static func userInfo(_ row: Row) -> UserInfo {
        let rawRole: Int64 = row["role"]
        // An unknown role (a newer schema's) gets the least privilege.
        let role = Role(rawValue: UInt8(clamping: rawRole)) ?? .user
        return UserInfo(id: row["id"], name: row["name"], role: role, rootNode: row["root_node"],
                        createdNs: row["created_ns"])
    }
}
