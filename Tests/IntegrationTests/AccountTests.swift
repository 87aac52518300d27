import NetStoreTestSupport
import Foundation
import NetStoreCore
import NetStoreProtocol
import Testing

@Suite("Accounts and sessions against the real server")
struct AccountTests {
    @Test("two accounts cannot see or touch each other's files")
    func isolation() async throws {
        let fixture = try await Fixture()
        let alice = try fixture.user("alice")
        let bob = try fixture.user("bob")
        let secret = fixture.dir.path("secret")
        try writeRandomFile(secret, size: 5000, seed: 5)
        #expect(try alice.run("put", secret.path, "/secret.txt").succeeded)
        #expect(try alice.run("mkdir", "/private").succeeded)

        let bobList = try bob.run("ls", "/")
        #expect(bobList.succeeded)
        #expect(!bobList.stdout.contains("secret.txt"))
        #expect(!(try bob.run("get", "/secret.txt", fixture.dir.path("stolen").path).succeeded))
        #expect(!(try bob.run("get", "/../alice/secret.txt", fixture.dir.path("stolen").path).succeeded))

        // Naming alice's nodes by id over the wire: as if they did not exist.
        let raw = try RawConnection(port: fixture.server.port)
        let aliceSession = try rawLogin(raw, "alice", "alice-password-1")
        let node = try attributes(raw.call(.lookup(parent: aliceSession.user.rootNode, name: "secret.txt")))
        let dirNode = try attributes(raw.call(.lookup(parent: aliceSession.user.rootNode, name: "private")))

        let bobRaw = try RawConnection(port: fixture.server.port)
        _ = try rawLogin(bobRaw, "bob", "bob-password-1")
        let attempts: [Request] = [
            .getattr(node: node.id),
            .getContent(node: node.id),
            .lookup(parent: aliceSession.user.rootNode, name: "secret.txt"),
            .readdir(directory: aliceSession.user.rootNode, cookie: 0, limit: 100),
            .unlink(parent: aliceSession.user.rootNode, name: "secret.txt"),
            .setattr(node: node.id, changes: SetAttributes(mode: 0o777)),
            .mkdir(parent: dirNode.id, name: "planted", mode: 0o755, uid: 0, gid: 0),
            .commit(node: node.id, baseVersion: node.version, size: 0, blocks: []),
            .rename(parent: aliceSession.user.rootNode, name: "secret.txt", newParent: aliceSession.user.rootNode,
                    newName: "gone", flags: []),
        ]
        for request in attempts {
            let result = try bobRaw.call(request)
            guard case let .failure(error) = result else {
                Issue.record("bob's \(request.opcode) on alice's node succeeded")
                continue
            }
            #expect(error.code == .noEntry, "\(request.opcode): \(error)")
        }
        let after = try attributes(raw.call(.getattr(node: node.id)))
        #expect(after == node, "alice's file is unchanged")
    }

    @Test("a wrong password is refused with a clear error and no session")
    func wrongPassword() async throws {
        let fixture = try await Fixture()
        _ = try fixture.user("carol", password: "right-password")
        let cli = fixture.cli(as: "carol2")
        let file = fixture.dir.path("wrong")
        try "wrong-password".write(to: file, atomically: true, encoding: .utf8)
        let result = try cli.run("login", "carol", "--password-file", file.path)
        #expect(result.status == 1)
        #expect(result.stderr.lowercased().contains("password"), "says what failed: \(result.stderr)")
        #expect(!(try cli.run("ls", "/").succeeded), "no session was saved")

        let raw = try RawConnection(port: fixture.server.port)
        let reply = try raw.call(.login(user: "carol", password: "nope-nope-nope"))
        guard case let .failure(error) = reply else { Issue.record("login with a wrong password succeeded"); return }
        #expect(error.code == .badCredentials)
        let unknown = try raw.call(.login(user: "nobody", password: "whatever-pw"))
        guard case let .failure(unknownError) = unknown else { Issue.record("unknown user logged in"); return }
        #expect(unknownError.code == .badCredentials, "unknown user and wrong password look the same")
        // Still not authenticated on this connection.
        guard case let .failure(notAuthenticated) = try raw.call(.statfs) else {
            Issue.record("statfs without a session succeeded"); return
        }
        #expect(notAuthenticated.code == .notAuthenticated)
    }

    @Test("an expired token is refused")
    func expiredToken() async throws {
        let fixture = try await Fixture(serverArguments: ["--token-lifetime", "2"])
        let dave = try fixture.user("dave")
        #expect(try dave.run("ls", "/").succeeded)
        var lastError = ""
        let expired = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(250)) {
            let result = try dave.run("ls", "/")
            lastError = result.stderr
            return !result.succeeded
        }
        #expect(expired, "the session expired")
        #expect(lastError.contains("netstore login"), "tells the user to log in again: \(lastError)")
        try dave.login("dave", password: "dave-password-1", in: fixture.dir)
        #expect(try dave.run("ls", "/").succeeded)
    }

    @Test("logout and a password change revoke tokens")
    func revokedTokens() async throws {
        let fixture = try await Fixture()
        let erin = try fixture.user("erin")
        // A second copy of erin's session (same token) in another config directory.
        let copy = fixture.cli(as: "erin-copy")
        try FileManager.default.removeItem(at: copy.configDirectory)
        try FileManager.default.copyItem(at: erin.configDirectory, to: copy.configDirectory)
        #expect(try copy.run("ls", "/").succeeded)
        #expect(try erin.run("logout").succeeded)
        let refused = try copy.run("ls", "/")
        #expect(!refused.succeeded, "a logged-out token is refused")
        #expect(refused.stderr.contains("netstore login"), "\(refused.stderr)")

        try erin.login("erin", password: "erin-password-1", in: fixture.dir)
        #expect(try erin.run("ls", "/").succeeded)
        let newPassword = fixture.dir.path("erin-new")
        try "erin-new-password".write(to: newPassword, atomically: true, encoding: .utf8)
        let passwd = try fixture.admin.run("user", "passwd", "erin", "--password-file", newPassword.path)
        #expect(passwd.succeeded, "\(passwd.stderr)")
        #expect(!(try erin.run("ls", "/").succeeded), "a password change revokes sessions")
        #expect(throws: TestFailure.self) { try erin.login("erin", password: "erin-password-1", in: fixture.dir) }
        try erin.login("erin", password: "erin-new-password", in: fixture.dir)
        #expect(try erin.run("ls", "/").succeeded)
    }

    @Test("only an admin manages users")
    func adminOnly() async throws {
        let fixture = try await Fixture()
        let frank = try fixture.user("frank")
        let file = fixture.dir.path("pw")
        try "another-password".write(to: file, atomically: true, encoding: .utf8)
        let add = try frank.run("user", "add", "mallory", "--password-file", file.path)
        #expect(add.status == 1)
        #expect(add.stderr.contains("admin"), "\(add.stderr)")
        let list = try fixture.admin.run("user", "list")
        #expect(list.stdout.contains("frank"))
        #expect(!list.stdout.contains("mallory"))
    }
}

func rawLogin(_ raw: RawConnection, _ user: String, _ password: String) throws -> SessionInfo {
    guard case let .success(.session(info)) = try raw.call(.login(user: user, password: password)) else {
        throw TestFailure("raw login of \(user) failed")
    }
    return info
}

func attributes(_ result: Result<Response, NetStoreError>) throws -> NodeAttributes {
    guard case let .success(.attributes(attributes)) = result else {
        throw TestFailure("expected attributes, got \(result)")
    }
    return attributes
}
