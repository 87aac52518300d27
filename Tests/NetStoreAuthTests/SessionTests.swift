import Foundation
import GRDB
import NetStoreAuth
import NetStoreCore
import Testing

@Suite struct SessionTests {
    @Test func loginGivesATokenThatAuthenticates() async throws {
        let f = try AccountFixture()
        let alice = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        let session = try await f.accounts.login(user: "alice", password: "alice's password", source: "127.0.0.1")
        #expect(!session.token.isEmpty)
        #expect(session.user == alice)
        #expect(session.expiresNs == f.clock.now + AccountFixture.tokenLifetimeSeconds * 1_000_000_000)

        let authenticated = try f.accounts.authenticate(token: session.token)
        #expect(authenticated == SessionInfo(token: "", user: alice, expiresNs: session.expiresNs))
    }

    @Test func wrongPasswordAndUnknownUserGiveTheSameError() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        let expected = NetStoreError(.badCredentials, "wrong user name or password")
        await #expect(throws: expected) {
            try await f.accounts.login(user: "alice", password: "not her password", source: "s")
        }
        await #expect(throws: expected) {
            try await f.accounts.login(user: "mallory", password: "alice's password", source: "s")
        }
        await #expect(throws: expected) {
            try await f.accounts.login(user: "Not A Valid Name/", password: "", source: "s")
        }
        #expect(try f.count("SELECT COUNT(*) FROM sessions") == 0)
    }

    /// AUTH only reads (a backup answers it too); expired sessions are pruned by an operation.
    @Test func anExpiredTokenIsRefusedAndPruned() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        let session = try await f.accounts.login(user: "alice", password: "alice's password", source: "s")
        f.clock.advance(seconds: AccountFixture.tokenLifetimeSeconds - 1)
        _ = try f.accounts.authenticate(token: session.token)

        f.clock.advance(seconds: 1)
        let error = try #require(throws: NetStoreError.self) { try f.accounts.authenticate(token: session.token) }
        #expect(error.code == .badToken)
        #expect(error.message.contains("expired"))
        #expect(try await f.accounts.pruneExpiredSessions() == 1)
        #expect(try f.count("SELECT COUNT(*) FROM sessions") == 0)
        let again = try #require(throws: NetStoreError.self) { try f.accounts.authenticate(token: session.token) }
        #expect(again == NetStoreError(.badToken, "the session token is not valid: log in again to get a new one"))
    }

    @Test func unknownTokensAreRefused() async throws {
        let f = try AccountFixture()
        for token in ["", SessionToken.generate(), String(repeating: "x", count: 10_000)] {
            let error = try #require(throws: NetStoreError.self) { try f.accounts.authenticate(token: token) }
            #expect(error.code == .badToken)
            #expect(error.message.contains("log in again"))
        }
    }

    @Test func logoutRevokesTheSession() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        let first = try await f.accounts.login(user: "alice", password: "alice's password", source: "s")
        let second = try await f.accounts.login(user: "alice", password: "alice's password", source: "s")
        try await f.accounts.logout(token: first.token)
        #expect(throws: NetStoreError.self) { try f.accounts.authenticate(token: first.token) }
        _ = try f.accounts.authenticate(token: second.token)
        try await f.accounts.logout(token: first.token)  // again: not an error
    }

    @Test func aPasswordChangeRevokesSessionsAndTheOldPassword() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "old password", role: .user)
        let session = try await f.accounts.login(user: "alice", password: "old password", source: "s")
        try await f.accounts.setPassword(name: "alice", newPassword: "new password")

        let error = try #require(throws: NetStoreError.self) { try f.accounts.authenticate(token: session.token) }
        #expect(error.code == .badToken)
        await #expect(throws: NetStoreError(.badCredentials, "wrong user name or password")) {
            try await f.accounts.login(user: "alice", password: "old password", source: "s")
        }
        #expect(try f.accounts.checkPassword(name: "alice", password: "new password"))
        #expect(try !f.accounts.checkPassword(name: "alice", password: "old password"))
        _ = try await f.accounts.login(user: "alice", password: "new password", source: "s")

        await #expect(throws: NetStoreError.self) { try await f.accounts.setPassword(name: "alice", newPassword: "short") }
        let missing = try await #require(throws: NetStoreError.self) {
            try await f.accounts.setPassword(name: "nobody", newPassword: "long enough")
        }
        #expect(missing.code == .noEntry)
    }

    @Test func tokensAreStoredOnlyAsTheirHash() async throws {
        let f = try AccountFixture()
        let alice = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        let session = try await f.accounts.login(user: "alice", password: "alice's password", source: "s")
        let rows = try f.store.database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM sessions") }
        try #require(rows.count == 1)
        let row = rows[0]
        #expect(row["token_hash"] as Data == SessionToken.storageHash(of: session.token))
        #expect(row["user_id"] as AccountID == alice.id)
        #expect(row["expires_ns"] as Int64 == session.expiresNs)
        let tokenBytes = Data(session.token.utf8)
        for (column, value) in row {
            let stored: Data = switch value.storage {
            case .blob(let data): data
            case .string(let text): Data(text.utf8)
            default: Data(value.description.utf8)
            }
            #expect(stored.range(of: tokenBytes) == nil, "column \(column) holds the raw token")
        }
        // Nor does the database file.
        let file = try Data(contentsOf: f.directory.appendingPathComponent("store/metadata.sqlite"))
        let wal = (try? Data(contentsOf: f.directory.appendingPathComponent("store/metadata.sqlite-wal"))) ?? Data()
        #expect(file.range(of: tokenBytes) == nil && wal.range(of: tokenBytes) == nil)
    }
}
