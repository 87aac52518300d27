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
    public func addUser(name: String, password: String, role: Role) async throws -> UserInfo {
        try NameRules.validateUserName(name)
        try NameRules.validatePassword(password)
        let hasher = self.hasher
        let passwordHash = await Self.offload { hasher.hash(password) }
        let result = try await submitter.submit(.addUser(name: name, role: role, passwordHash: passwordHash, now: clock()))
        guard let user = result.user else { preconditionFailure("adding a user returns the user") }
        logger.notice("user added", metadata: ["user": "\(name)", "role": "\(role.name)"])
        return user
    }

    /// Sets a password and revokes all that user's sessions.
    public func setPassword(name: String, newPassword: String) async throws {
        try NameRules.validatePassword(newPassword)
        let hasher = self.hasher
        let passwordHash = await Self.offload { hasher.hash(newPassword) }
        _ = try await submitter.submit(.setPassword(name: name, passwordHash: passwordHash, now: clock()))
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
    public func removeUser(name: String) async throws {
        _ = try await submitter.submit(.removeUser(name: name))
        logger.notice("user removed", metadata: ["user": "\(name)"])
    }

    public func user(named name: String) throws -> UserInfo {
        guard let record = try store.database.read({ db in try Self.fetchUser(db, name: name) }) else {
            throw Self.noSuchUser(name)
        }
        return record.info
    }

    // MARK: rows

    static func noSuchUser(_ name: String) -> NetStoreError { Store.noSuchUser(name) }

    static func fetchUser(_ db: Database, name: String) throws -> UserRecord? {
        guard let row = try Store.userRow(db, name: name) else { return nil }
        return UserRecord(info: Store.userInfo(row), passwordHash: row["password_hash"])
    }

    static func userInfo(_ row: Row) -> UserInfo { Store.userInfo(row) }
}
