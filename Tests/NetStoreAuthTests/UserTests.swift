import Foundation
import GRDB
import NetStoreAuth
import NetStoreCore
import Testing

@Suite struct UserTests {
    @Test func addUserCreatesTheUserAndTheirRoot() async throws {
        let f = try AccountFixture()
        let bob = try await f.accounts.addUser(name: "bob", password: "bob's password", role: .user)
        #expect(bob.name == "bob" && bob.role == .user && bob.createdNs == f.clock.now)
        #expect(bob.rootNode != 0)
        #expect(try f.accounts.user(named: "bob") == bob)
        let root = try f.store.getattr(account: bob.id, node: bob.rootNode)
        #expect(root.kind == .directory)
        #expect(try f.count("SELECT COUNT(*) FROM nodes WHERE account = ?", [bob.id]) == 1)

        let again = try await #require(throws: NetStoreError.self) {
            try await f.accounts.addUser(name: "bob", password: "another password", role: .admin)
        }
        #expect(again.code == .exists)
        #expect(try f.accounts.user(named: "bob") == bob)
        #expect(try f.count("SELECT COUNT(*) FROM nodes") == 1)
    }

    @Test func invalidNamesAndPasswordsCreateNothing() async throws {
        let f = try AccountFixture()
        let names = ["", "Bob", "1bob", "bo/b", "bo b", "..", String(repeating: "a", count: 65)]
        for name in names {
            let error = try await #require(throws: NetStoreError.self) {
                try await f.accounts.addUser(name: name, password: "a fine password", role: .user)
            }
            #expect(error.code == .invalid, "name \(name)")
        }
        for password in ["", "short", String(repeating: "p", count: Limits.maxPasswordLength + 1)] {
            let error = try await #require(throws: NetStoreError.self) {
                try await f.accounts.addUser(name: "carol", password: password, role: .user)
            }
            #expect(error.code == .invalid, "password of \(password.count) characters")
        }
        #expect(try f.accounts.listUsers().isEmpty)
        #expect(try f.count("SELECT COUNT(*) FROM users") == 0)
        #expect(try f.count("SELECT COUNT(*) FROM nodes") == 0)
    }

    @Test func usersAreListedByNameAndLookedUp() async throws {
        let f = try AccountFixture()
        for name in ["mallory", "alice", "zed", "bob"] {
            _ = try await f.accounts.addUser(name: name, password: "password of \(name)", role: name == "zed" ? .admin : .user)
        }
        let users = try f.accounts.listUsers()
        #expect(users.map(\.name) == ["alice", "bob", "mallory", "zed"])
        #expect(users.map(\.role) == [.user, .user, .user, .admin])
        #expect(Set(users.map(\.rootNode)).count == 4)
        let missing = try #require(throws: NetStoreError.self) { try f.accounts.user(named: "nobody") }
        #expect(missing.code == .noEntry)
        #expect(missing.message.contains("nobody"))
    }

    @Test func checkPasswordTellsRightFromWrong() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        #expect(try f.accounts.checkPassword(name: "alice", password: "alice's password"))
        #expect(try !f.accounts.checkPassword(name: "alice", password: "alice's passworD"))
        #expect(try !f.accounts.checkPassword(name: "nobody", password: "alice's password"))
    }

    @Test func theLastAdminCannotBeRemoved() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "root", password: "root's password", role: .admin)
        _ = try await f.accounts.addUser(name: "bob", password: "bob's password", role: .user)
        let refused = try await #require(throws: NetStoreError.self) { try await f.accounts.removeUser(name: "root") }
        #expect(refused.code == .notPermitted)
        #expect(refused.message.contains("last admin"))
        #expect(try f.accounts.user(named: "root").role == .admin)

        _ = try await f.accounts.addUser(name: "second", password: "second's password", role: .admin)
        try await f.accounts.removeUser(name: "root")
        await #expect(throws: NetStoreError.self) { try await f.accounts.removeUser(name: "second") }
        #expect(try f.accounts.listUsers().map(\.name) == ["bob", "second"])
    }

    @Test func removingAUserRemovesTheirSessionsAndTree() async throws {
        let f = try AccountFixture()
        let bob = try await f.accounts.addUser(name: "bob", password: "bob's password", role: .user)
        let carol = try await f.accounts.addUser(name: "carol", password: "carol's password", role: .user)
        let docs = try f.store.mkdir(account: bob.id, parent: bob.rootNode, name: "docs", mode: 0o755,
                                     uid: 1000, gid: 1000, now: f.clock.now)
        _ = try f.store.mknod(account: bob.id, parent: docs.id, name: "notes", kind: .file, mode: 0o644,
                              uid: 1000, gid: 1000, now: f.clock.now)
        _ = try f.store.mkdir(account: carol.id, parent: carol.rootNode, name: "keep", mode: 0o755,
                              uid: 1000, gid: 1000, now: f.clock.now)
        let bobSession = try await f.accounts.login(user: "bob", password: "bob's password", source: "s")
        let carolSession = try await f.accounts.login(user: "carol", password: "carol's password", source: "s")
        #expect(try f.count("SELECT COUNT(*) FROM nodes WHERE account = ?", [bob.id]) == 3)

        try await f.accounts.removeUser(name: "bob")
        #expect(try f.count("SELECT COUNT(*) FROM nodes WHERE account = ?", [bob.id]) == 0)
        #expect(try f.count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", [bob.id]) == 0)
        #expect(throws: NetStoreError.self) { try f.accounts.authenticate(token: bobSession.token) }
        #expect(throws: NetStoreError.self) { try f.accounts.user(named: "bob") }
        // Carol is untouched.
        #expect(try f.accounts.authenticate(token: carolSession.token).user == carol)
        #expect(try f.count("SELECT COUNT(*) FROM nodes WHERE account = ?", [carol.id]) == 2)

        let missing = try await #require(throws: NetStoreError.self) { try await f.accounts.removeUser(name: "bob") }
        #expect(missing.code == .noEntry)
    }
}
