import Foundation
import GRDB
import Logging
import NetStoreCore
import NetStoreStorage
import Synchronization

/// Users, passwords and session tokens, in the store's database.
///
/// Time comes only from `clock`, so tests (and replicas applying the primary's
/// choices) control it. Password hashing for LOGIN runs off the caller's executor:
/// scrypt takes tens of milliseconds of CPU on purpose.
public final class AccountService: Sendable {
    let store: Store
    let tokenLifetimeNs: Int64
    let clock: @Sendable () -> Int64
    let hasher: PasswordHasher
    let logger: Logger
    let throttle: Mutex<LoginThrottle>
    /// Every change of users and sessions goes through here (replicated on a cluster).
    let submitter: any MutationSubmitter

    /// Sessions kept per user; a login beyond that drops the oldest.
    static let maxSessionsPerUser = 1000
    static let badCredentials = NetStoreError(.badCredentials, "wrong user name or password")

    /// `clock` returns nanoseconds since the epoch; tests inject their own.
    /// `hasher` sets the scrypt cost of new hashes (tests pass cheap parameters).
    /// `submitter` carries out changes; by default they are applied to `store` directly.
    public init(
        store: Store,
        submitter: (any MutationSubmitter)? = nil,
        tokenLifetimeSeconds: Int64 = 30 * 24 * 3600,
        clock: @escaping @Sendable () -> Int64 = AccountService.wallClock,
        hasher: PasswordHasher = PasswordHasher(),
        throttlePolicy: LoginThrottle.Policy = LoginThrottle.Policy(),
        logger: Logger = Logger(label: "netstore.auth")
    ) {
        precondition(tokenLifetimeSeconds > 0, "a token lifetime is positive")
        self.store = store
        self.submitter = submitter ?? LocalSubmitter(store: store)
        self.tokenLifetimeNs = tokenLifetimeSeconds * 1_000_000_000
        self.clock = clock
        self.hasher = hasher
        self.logger = logger
        self.throttle = Mutex(LoginThrottle(policy: throttlePolicy))
    }

    public static let wallClock: @Sendable () -> Int64 = {
        Int64(Date().timeIntervalSince1970 * 1_000_000_000)
    }

    // MARK: sessions

    /// Checks a password and opens a session. A wrong password and an unknown user are
    /// the same `.badCredentials` and cost the same scrypt work. After repeated failures
    /// for the user name or `source`, attempts are refused with `.tooManyAttempts` until
    /// the back-off delay is over (see `LoginThrottle`).
    /// `source` names the client (an address) for throttling of failed attempts.
    public func login(user: String, password: String, source: String) async throws -> SessionInfo {
        let name = Self.bounded(user)
        let now = clock()
        let decision = throttle.withLock { $0.admit(user: name, source: Self.bounded(source), now: now) }
        if case .refused(let subject, let retryAtNs) = decision {
            let seconds = (retryAtNs - now + 999_999_999) / 1_000_000_000
            throw NetStoreError(.tooManyAttempts, "too many failed logins for \(subject): try again in \(seconds) s")
        }

        let record = try await store.database.read { db in try Self.fetchUser(db, name: name) }
        let hasher = self.hasher
        let dummy = self.dummyHash
        let matches = await Self.offload {
            hasher.verify(password, against: record?.passwordHash ?? dummy) && record != nil
        }
        guard let record, matches else {
            logger.info("failed login", metadata: ["user": "\(name)", "source": "\(source)"])
            throw Self.badCredentials
        }
        throttle.withLock { $0.recordSuccess(user: name, source: Self.bounded(source)) }

        let rehashed = hasher.needsRehash(record.passwordHash)
            ? await Self.offload { hasher.hash(password) } : nil
        let token = SessionToken.generate()
        let expiresNs = now + tokenLifetimeNs
        let created = try await submitter.submit(.createSession(
            user: record.info.id, checkedHash: record.passwordHash, rehash: rehashed,
            tokenHash: [UInt8](SessionToken.storageHash(of: token)), now: now, expiresNs: expiresNs,
            maxSessions: UInt32(Self.maxSessionsPerUser)))
        guard let user = created.user else { preconditionFailure("a session's creation returns its user") }
        logger.info("login", metadata: ["user": "\(name)", "source": "\(source)"])
        return SessionInfo(token: token, user: user, expiresNs: expiresNs)
    }

    /// Resolves a token to its session (with `token` empty). Only reads, so that any
    /// server can answer; expired sessions are deleted by logins and `pruneExpiredSessions`.
    public func authenticate(token: String) throws -> SessionInfo {
        let invalid = NetStoreError(.badToken, "the session token is not valid: log in again to get a new one")
        guard !token.isEmpty, token.utf8.count <= Limits.maxTokenLength else { throw invalid }
        let tokenHash = SessionToken.storageHash(of: token)
        let now = clock()
        let found = try store.database.read { db -> (UserInfo, Int64)? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.expires_ns AS expires_ns, u.* FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = ?
                """, arguments: [tokenHash]) else { return nil }
            return (Self.userInfo(row), row["expires_ns"])
        }
        guard let (user, expiresNs) = found else { throw invalid }
        if expiresNs <= now {
            throw NetStoreError(.badToken, "the session token expired: log in again to get a new one")
        }
        return SessionInfo(token: "", user: user, expiresNs: expiresNs)
    }

    /// Ends the session of `token`. Ending an unknown or already ended session is not an error.
    public func logout(token: String) async throws {
        guard token.utf8.count <= Limits.maxTokenLength else { return }
        _ = try await submitter.submit(.deleteSession(tokenHash: [UInt8](SessionToken.storageHash(of: token))))
    }

    /// Deletes every expired session; returns how many. A user's expired sessions are
    /// also deleted at their next login.
    @discardableResult
    public func pruneExpiredSessions() async throws -> Int {
        guard case .count(let count) = try await submitter.submit(.pruneSessions(now: clock())) else { return 0 }
        return count
    }

    // MARK: helpers

    /// A hash no password matches in practice (its hash part is all zeros); checked
    /// against for unknown users so that they cost the same scrypt work as known ones.
    var dummyHash: String {
        let p = hasher.parameters
        let salt = Data(count: PasswordHasher.saltByteCount).base64EncodedString()
        let hash = Data(count: PasswordHasher.hashByteCount).base64EncodedString()
        return "scrypt$\(p.rounds)$\(p.blockSize)$\(p.parallelism)$\(salt)$\(hash)"
    }

    /// Caps a client-supplied name before it becomes a throttle key or a log field.
    static func bounded(_ text: String) -> String {
        text.utf8.count <= 128 ? text : String(decoding: text.utf8.prefix(128), as: UTF8.self)
    }

    /// Runs CPU-heavy work on a Dispatch thread, keeping it off the Swift concurrency pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
