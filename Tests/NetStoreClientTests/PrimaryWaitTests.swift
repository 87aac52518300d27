import NetStoreCore
import NetStoreProtocol
import Synchronization
import Testing

@testable import NetStoreClient

/// A change that finds no primary waits for one (up to `primaryWait`),
/// finding it by asking every server, and fails with EIO once the wait is over.
@Suite("Waiting for a primary")
struct PrimaryWaitTests {
    static func status(_ role: String, term: UInt64 = 1) -> ServerStatus {
        ServerStatus(role: role, softwareVersion: "test", uptimeSeconds: 1, nodeCount: 1, userCount: 1,
                     blockCount: 0, blockBytes: 0, term: term)
    }

    /// A backup: it answers reads and STATUS, and refuses every change.
    static func backup() async throws -> TestServer {
        try await TestServer.start { _, request in
            switch request {
            case .auth: .reply(.success(.session(FakeStore.session(token: ""))))
            case .status: .reply(.success(.status(status("backup"))))
            case .mkdir, .create, .commit: .reply(.failure(NetStoreError(.notPrimary, "this server is a backup")))
            default: .reply(.success(.empty))
            }
        }
    }

    @Test("a mkdir a backup refuses waits until a server says it is primary (listed after the backup), then is made there")
    func waitsForPromotion() async throws {
        let backup = try await Self.backup()
        let placeholder = try await TestServer.start { _, _ in .ignore }
        let primaryPort = placeholder.port
        await placeholder.stop()
        let client = NetStoreClient(NetStoreClient.Configuration(
            servers: [ServerAddress(host: "127.0.0.1", port: backup.port), ServerAddress(host: "127.0.0.1", port: primaryPort)],
            credentials: .token(FakeStore.token), primaryWait: .seconds(10)))
        try await client.ping()

        let started = ContinuousClock.now
        let mkdir = Task { try await client.mkdir(parent: FakeStore.root, name: "d") }
        try await Task.sleep(for: .seconds(1))
        let store = FakeStore()
        let primary = try await TestServer.start(port: primaryPort) { _, request in
            if case .status = request { return .reply(.success(.status(Self.status("primary", term: 2)))) }
            return store.respond(request)
        }
        let made = try await mkdir.value
        #expect(made.kind == .directory)
        #expect(ContinuousClock.now - started >= .seconds(1), "it waited for the primary")
        #expect(client.currentServer?.port == primaryPort, "later requests go to the primary")
        #expect(store.state.withLock { $0.entries[FakeStore.root]?["d"] } != nil)
        await client.close()
        await primary.stop()
        await backup.stop()
    }

    @Test("with no primary, a change fails with EIO once the wait is over; reads still work")
    func timesOut() async throws {
        let backup = try await Self.backup()
        let client = NetStoreClient(NetStoreClient.Configuration(
            servers: [ServerAddress(host: "127.0.0.1", port: backup.port), ServerAddress(host: "127.0.0.1", port: 1)],
            credentials: .token(FakeStore.token), primaryWait: .seconds(1)))
        let started = ContinuousClock.now
        let error = await #expect(throws: NetStoreError.self) {
            try await client.mkdir(parent: FakeStore.root, name: "d")
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .io && error?.message.contains("promote") == true, "\(String(describing: error))")
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(5), "\(elapsed)")
        try await client.ping()
        await client.close()
        await backup.stop()
    }

    @Test("a mkdir whose connection breaks after it went out is not sent again, even with a wait: its outcome is unknown")
    func lostMutationNotRepeated() async throws {
        let mkdirs = Mutex(0)
        let server = try await TestServer.start { _, request in
            switch request {
            case .auth: return .reply(.success(.session(FakeStore.session(token: ""))))
            case .mkdir:
                mkdirs.withLock { $0 += 1 }
                return .close
            default: return .reply(.success(.empty))
            }
        }
        let client = NetStoreClient(NetStoreClient.Configuration(
            servers: [ServerAddress(host: "127.0.0.1", port: server.port)],
            credentials: .token(FakeStore.token), primaryWait: .seconds(10)))
        let started = ContinuousClock.now
        let error = await #expect(throws: NetStoreError.self) {
            try await client.mkdir(parent: FakeStore.root, name: "d")
        }
        #expect(error?.code == .io)
        #expect(ContinuousClock.now - started < .seconds(5), "no wait: the outcome is unknown, not refused")
        #expect(mkdirs.withLock { $0 } == 1)
        await client.close()
        await server.stop()
    }

    @Test("without a wait, the backup's refusal is reported at once")
    func failsFast() async throws {
        let backup = try await Self.backup()
        let client = NetStoreClient(NetStoreClient.Configuration(
            servers: [ServerAddress(host: "127.0.0.1", port: backup.port), ServerAddress(host: "127.0.0.1", port: 1)],
            credentials: .token(FakeStore.token)))
        let started = ContinuousClock.now
        let error = await #expect(throws: NetStoreError.self) {
            try await client.mkdir(parent: FakeStore.root, name: "d")
        }
        #expect(error?.code == .notPrimary)
        #expect(ContinuousClock.now - started < .seconds(2))
        await client.close()
        await backup.stop()
    }
}
