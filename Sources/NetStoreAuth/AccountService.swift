import Foundation
import Logging
import NetStoreCore
import NetStoreStorage

// STUB: signatures only; the real account service replaces the bodies.

/// Users, passwords and session tokens, in the store's database.
public final class AccountService: Sendable {
    /// `clock` returns nanoseconds since the epoch; tests inject their own.
    public init(
        store: Store,
        tokenLifetimeSeconds: Int64 = 30 * 24 * 3600,
        clock: @escaping @Sendable () -> Int64 = AccountService.wallClock
    ) {
        fatalError("not implemented")
    }

    public static let wallClock: @Sendable () -> Int64 = {
        Int64(Date().timeIntervalSince1970 * 1_000_000_000)
    }

    /// On a store with no users, creates `admin` with the password read from
    /// `passwordFile`, or a generated one written once to a 0600 file in
    /// `dataDirectory`. Returns the file holding the password when it generated one.
    public func bootstrapAdmin(passwordFile: URL?, dataDirectory: URL, logger: Logger) throws -> URL? {
        fatalError("not implemented")
    }

    /// `source` names the client (an address) for throttling of failed attempts.
    public func login(user: String, password: String, source: String) async throws -> SessionInfo { fatalError("not implemented") }
    public func authenticate(token: String) throws -> SessionInfo { fatalError("not implemented") }
    public func logout(token: String) throws { fatalError("not implemented") }

    public func addUser(name: String, password: String, role: Role) throws -> UserInfo { fatalError("not implemented") }
    /// Sets a password and revokes all that user's sessions.
    public func setPassword(name: String, newPassword: String) throws { fatalError("not implemented") }
    public func checkPassword(name: String, password: String) throws -> Bool { fatalError("not implemented") }
    public func listUsers() throws -> [UserInfo] { fatalError("not implemented") }
    /// Removes a user, their sessions and their whole tree; the last admin cannot be removed.
    public func removeUser(name: String) throws { fatalError("not implemented") }
    public func user(named name: String) throws -> UserInfo { fatalError("not implemented") }
}
