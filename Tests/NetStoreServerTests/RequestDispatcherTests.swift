import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreAuth
import NetStoreCore
import NetStoreProtocol
import NetStoreServer
import NetStoreStorage
import Testing

/// The dispatcher with a real store and account service, no sockets.
final class DispatcherHarness: @unchecked Sendable {
    let directory: URL
    let store: Store
    let accounts: AccountService
    let pool: NIOThreadPool
    let dispatcher: RequestDispatcher

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dispatcher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        store = try Store(directory: directory, logger: logger)
        accounts = AccountService(store: store)
        let passwordFile = directory.appendingPathComponent("admin-pw")
        try "admin-password".write(to: passwordFile, atomically: true, encoding: .utf8)
        _ = try await accounts.bootstrapAdmin(passwordFile: passwordFile, dataDirectory: directory, logger: logger)
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        dispatcher = RequestDispatcher(store: store, accounts: accounts, threadPool: pool, logger: logger)
    }

    func session(_ user: String, _ password: String) async throws -> (ConnectionSession, SessionInfo) {
        let session = ConnectionSession(peer: "test")
        guard case let .success(.session(info)) = await dispatcher.handle(.login(user: user, password: password), session: session)
        else { throw NetStoreError(.badCredentials, "login \(user)") }
        return (session, info)
    }

    deinit {
        try? pool.syncShutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("RequestDispatcher")
struct RequestDispatcherTests {
    @Test("file requests need a session")
    func needsSession() async throws {
        let harness = try await DispatcherHarness()
        let anonymous = ConnectionSession(peer: "test")
        let result = await harness.dispatcher.handle(.getattr(node: 1), session: anonymous)
        #expect(result == .failure(NetStoreError(.notAuthenticated, "log in first (LOGIN or AUTH)")))
        #expect(await harness.dispatcher.handle(.ping, session: anonymous) == .success(.empty))
    }

    @Test("login, create, list, and logout revokes the session")
    func sessionLifecycle() async throws {
        let harness = try await DispatcherHarness()
        let (session, info) = try await harness.session("admin", "admin-password")
        let root = info.user.rootNode
        let made = await harness.dispatcher.handle(.mkdir(parent: root, name: "docs", mode: 0o755, uid: 1, gid: 2), session: session)
        guard case let .success(.attributes(dir)) = made else { Issue.record("mkdir: \(made)"); return }
        #expect(dir.kind == .directory && dir.uid == 1 && dir.gid == 2)
        let listed = await harness.dispatcher.handle(.readdir(directory: root, cookie: 0, limit: 10), session: session)
        guard case let .success(.page(page)) = listed else { Issue.record("readdir: \(listed)"); return }
        #expect(page.entries.map(\.name) == ["docs"])
        #expect(await harness.dispatcher.handle(.logout, session: session) == .success(.empty))
        let after = await harness.dispatcher.handle(.getattr(node: root), session: session)
        guard case let .failure(error) = after else { Issue.record("getattr after logout succeeded"); return }
        #expect(error.code == .notAuthenticated)

        // The token itself no longer authenticates a new connection.
        let other = ConnectionSession(peer: "test")
        let resumed = await harness.dispatcher.handle(.auth(token: info.token), session: other)
        guard case let .failure(authError) = resumed else { Issue.record("revoked token accepted"); return }
        #expect(authError.code == .badToken)
    }

    @Test("a connection that used its token stops working at once when it is revoked on another connection, by logout or a password change")
    func revokedElsewhere() async throws {
        let harness = try await DispatcherHarness()
        let (first, info) = try await harness.session("admin", "admin-password")
        let root = info.user.rootNode
        // Several requests: the later ones use the remembered check.
        for _ in 0..<3 {
            guard case .success = await harness.dispatcher.handle(.getattr(node: root), session: first) else {
                Issue.record("getattr with a fresh session failed"); return
            }
        }
        let second = ConnectionSession(peer: "test")
        guard case .success = await harness.dispatcher.handle(.auth(token: info.token), session: second) else {
            Issue.record("auth with the token failed"); return
        }
        #expect(await harness.dispatcher.handle(.logout, session: second) == .success(.empty))
        let after = await harness.dispatcher.handle(.getattr(node: root), session: first)
        guard case let .failure(error) = after else { Issue.record("a token revoked elsewhere still worked"); return }
        #expect(error.code == .badToken)

        let (third, _) = try await harness.session("admin", "admin-password")
        guard case .success = await harness.dispatcher.handle(.getattr(node: root), session: third) else {
            Issue.record("getattr with a new session failed"); return
        }
        let (fourth, _) = try await harness.session("admin", "admin-password")
        let changed = await harness.dispatcher.handle(
            .userPasswd(name: "admin", oldPassword: "admin-password", newPassword: "another-password-1"), session: fourth)
        #expect(changed == .success(.empty), "\(changed)")
        let afterChange = await harness.dispatcher.handle(.getattr(node: root), session: third)
        guard case let .failure(changeError) = afterChange else { Issue.record("a token survived a password change"); return }
        #expect(changeError.code == .badToken)
    }

    @Test("mknod stores sockets and device nodes with a device number for devices only; never a directory")
    func mknodKinds() async throws {
        let harness = try await DispatcherHarness()
        let (session, info) = try await harness.session("admin", "admin-password")
        let root = info.user.rootNode
        let cases: [(String, NodeKind, UInt64, UInt64)] = [
            ("sock", .socket, 7, 0), ("null", .characterDevice, 0x103, 0x103), ("loop", .blockDevice, 0x700, 0x700),
        ]
        for (name, kind, given, stored) in cases {
            let made = await harness.dispatcher.handle(
                .mknod(parent: root, name: name, kind: kind, mode: 0o644, uid: 0, gid: 0, rdev: given), session: session)
            guard case let .success(.attributes(node)) = made else { Issue.record("mknod \(name): \(made)"); continue }
            #expect(node.kind == kind && node.rdev == stored, "\(name)")
            #expect(await harness.dispatcher.handle(.getattr(node: node.id), session: session) == .success(.attributes(node)))
        }
        let directory = await harness.dispatcher.handle(
            .mknod(parent: root, name: "d", kind: .directory, mode: 0o755, uid: 0, gid: 0, rdev: 0), session: session)
        guard case let .failure(error) = directory else { Issue.record("mknod made a directory"); return }
        #expect(error.code == .invalid)
    }

    @Test("user management is for admins; a user changes their own password with the old one")
    func accountRules() async throws {
        let harness = try await DispatcherHarness()
        let (admin, _) = try await harness.session("admin", "admin-password")
        let added = await harness.dispatcher.handle(.userAdd(name: "bob", password: "bob-password", role: .user), session: admin)
        guard case .success(.user) = added else { Issue.record("userAdd: \(added)"); return }
        let (bob, _) = try await harness.session("bob", "bob-password")

        let refused = await harness.dispatcher.handle(.userAdd(name: "eve", password: "eve-password", role: .admin), session: bob)
        guard case let .failure(error) = refused else { Issue.record("a user added a user"); return }
        #expect(error.code == .accessDenied)
        let list = await harness.dispatcher.handle(.userList, session: bob)
        guard case .failure = list else { Issue.record("a user listed users"); return }

        let wrongOld = await harness.dispatcher.handle(
            .userPasswd(name: "bob", oldPassword: "not-bobs", newPassword: "bob-new-password"), session: bob)
        guard case let .failure(wrongOldError) = wrongOld else { Issue.record("password changed without the old one"); return }
        #expect(wrongOldError.code == .badCredentials)
        let others = await harness.dispatcher.handle(
            .userPasswd(name: "admin", oldPassword: "admin-password", newPassword: "hijacked-pw"), session: bob)
        guard case .failure = others else { Issue.record("a user changed the admin's password"); return }
        let changed = await harness.dispatcher.handle(
            .userPasswd(name: "bob", oldPassword: "bob-password", newPassword: "bob-new-password"), session: bob)
        #expect(changed == .success(.empty))
        _ = try await harness.session("bob", "bob-new-password")
    }
}
