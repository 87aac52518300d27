import Foundation
import Logging
import NIOCore
import NetStoreClient
import NetStoreCore
import NetStoreProtocol
import NetStoreServer
import NetStoreTestSupport
import Synchronization
import Testing

/// WATCH end to end in this process: a real server, real clients on real sockets.
@Suite(.timeLimit(.minutes(2))) struct ChangeWatchTests {
    @Test func anotherConnectionsChangesAreToldOwnChangesAndOtherAccountsAreNot() async throws {
        let server = try await WatchServer()
        let watcher = try await server.client("admin", WatchServer.password)
        let heard = Heard()
        watcher.watchChanges { heard.add($0) }
        #expect(try await waitUntil { watcher.isWatchLive }, "the watch goes live")
        #expect(try await waitUntil { heard.all.contains(.reset) }, "a fresh watch starts with a reset")
        let root = try await watcher.requireSession().user.rootNode

        // The watcher's own changes: nothing comes back for them.
        let own = try await attributes(watcher.send(.create(parent: root, name: "own.txt", mode: 0o644, uid: 0, gid: 0)))
        _ = try await watcher.send(.commitInline(node: own.id, baseVersion: own.version, data: ByteBuffer(string: "mine")))

        // Another account's changes: nothing either.
        let bob = try await server.user("bob")
        let bobRoot = try await bob.requireSession().user.rootNode
        _ = try await bob.send(.create(parent: bobRoot, name: "bob.txt", mode: 0o644, uid: 0, gid: 0))

        // Another connection of the same account: told.
        let other = try await server.client("admin", WatchServer.password)
        let file = try await attributes(other.send(.create(parent: root, name: "b.txt", mode: 0o644, uid: 0, gid: 0)))
        #expect(try await waitUntil { heard.all.contains(.entry(parent: root, name: "b.txt")) }, "a create elsewhere is told: \(heard.all)")
        _ = try await other.send(.commitInline(node: file.id, baseVersion: file.version, data: ByteBuffer(string: "new content")))
        #expect(try await waitUntil { heard.all.contains(.node(file.id)) }, "a write elsewhere is told")
        _ = try await other.send(.rename(parent: root, name: "b.txt", newParent: root, newName: "c.txt", flags: []))
        #expect(try await waitUntil { heard.all.contains(.entry(parent: root, name: "c.txt")) }, "a rename elsewhere is told")
        _ = try await other.send(.unlink(parent: root, name: "c.txt"))
        #expect(try await waitUntil { heard.count(.entry(parent: root, name: "c.txt")) >= 2 }, "an unlink elsewhere is told")

        // Everything told so far came after the watcher's and bob's changes on one ordered stream.
        let all = heard.all
        #expect(!all.contains(.entry(parent: root, name: "own.txt")), "the watcher's own create is not told back: \(all)")
        #expect(!all.contains(.node(own.id)), "the watcher's own write is not told back")
        #expect(!all.contains(.entry(parent: bobRoot, name: "bob.txt")), "another account's change is not told")
        #expect(!all.contains(.node(bobRoot)))
        await watcher.close(); await other.close(); await bob.close()
        await server.close()
    }

    @Test func watchIsAcceptedOnThePrimaryAndMayBeRepeated() async throws {
        let server = try await WatchServer()
        let client = try await server.client("admin", WatchServer.password)
        #expect(try await client.send(.watch) == .empty, "the primary accepts")
        let again = try await client.send(.watch)
        #expect(again == .empty, "a second WATCH is no error")
        await client.close()
        await server.close()
    }

    @Test func losingTheServerEndsTheWatchWithAResetAndItComesBackOnAnother() async throws {
        let first = try await WatchServer(), second = try await WatchServer()
        let watcher = try await first.client("admin", WatchServer.password, thenOn: second)
        let heard = Heard()
        watcher.watchChanges { heard.add($0) }
        #expect(try await waitUntil { watcher.isWatchLive })
        let resetsBefore = heard.count(.reset)
        await first.close()
        #expect(try await waitUntil { heard.count(.reset) >= resetsBefore + 2 && watcher.isWatchLive },
                "a reset when the watch ends, another when it is back: \(heard.all)")
        #expect(watcher.currentServer?.port == second.port)
        let root = try await watcher.requireSession().user.rootNode
        let other = try await second.client("admin", WatchServer.password)
        _ = try await other.send(.mkdir(parent: root, name: "after", mode: 0o755, uid: 0, gid: 0))
        #expect(try await waitUntil { heard.all.contains(.entry(parent: root, name: "after")) }, "changes are told again")
        await watcher.close(); await other.close()
        await second.close()
    }

    private func attributes(_ response: Response) throws -> NodeAttributes {
        guard case .attributes(let attributes) = response else { throw NetStoreError(.protocolError, "expected attributes, got \(response)") }
        return attributes
    }
}

/// The notices a handler heard, in order.
final class Heard: Sendable {
    private let notices = Mutex<[ChangeNotice]>([])
    func add(_ batch: [ChangeNotice]) { notices.withLock { $0 += batch } }
    var all: [ChangeNotice] { notices.withLock { $0 } }
    func count(_ notice: ChangeNotice) -> Int { all.filter { $0 == notice }.count }
}

/// A single server (its own primary) with its store in a temporary directory.
final class WatchServer: @unchecked Sendable {
    static let password = "admin-password-1"
    let directory: URL
    let passwordFile: URL
    let logger: Logger
    let server: NetStoreServer
    let serving: Task<Void, any Error>
    let port: Int

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        passwordFile = directory.appendingPathComponent("admin-password")
        try Self.password.write(to: passwordFile, atomically: true, encoding: .utf8)
        var logger = Logger(label: "watch-test")
        logger.logLevel = .warning
        self.logger = logger
        (server, serving, port) = try await Self.start(directory: directory, passwordFile: passwordFile, logger: logger)
    }

    private static func start(directory: URL, passwordFile: URL, logger: Logger) async throws -> (NetStoreServer, Task<Void, any Error>, Int) {
        let server = try NetStoreServer(
            configuration: ServerConfiguration(
                port: 0, dataDirectory: directory.appendingPathComponent("data"), adminPasswordFile: passwordFile),
            logger: logger)
        let (serving, bound) = try await server.start()
        return (server, serving, bound)
    }

    /// A client of this server (and `next`, tried when this one is gone).
    func client(_ user: String, _ password: String, thenOn next: WatchServer? = nil) async throws -> NetStoreClient {
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: port)] + (next.map { [ServerAddress(host: "127.0.0.1", port: $0.port)] } ?? []),
            credentials: .password(user: user, password: password), logger: logger)
        try await client.connect()
        return client
    }

    /// A new account `name`, logged in.
    func user(_ name: String) async throws -> NetStoreClient {
        let admin = try await client("admin", Self.password)
        _ = try await admin.send(.userAdd(name: name, password: "\(name)-password-1", role: .user))
        await admin.close()
        return try await client(name, "\(name)-password-1")
    }

    func close() async {
        server.shutdown()
        _ = try? await serving.value
        await server.close()
        try? FileManager.default.removeItem(at: directory)
    }
}
