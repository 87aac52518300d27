#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Synchronization
import Testing

@testable import NetStoreClient

/// A temporary directory removed when the test ends.
final class Scratch {
    let path: String

    init() throws {
        var template = Array("/tmp/netstore-client-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { _ = system("rm -rf '\(path)'") }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = "\(path)/\(name)"
        let handle = fopen(file, "w")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        fclose(handle)
        return file
    }

    func read(_ name: String) -> [UInt8]? {
        guard let handle = fopen("\(path)/\(name)", "r") else { return nil }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, handle)
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    var names: [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// Deterministic bytes that differ from block to block.
func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ $0 / 4093) }
}

@Suite("NetStoreClient against an in-memory store")
struct ClientTransferTests {
    private func start() async throws -> (FakeStore, TestServer, NetStoreClient) {
        let store = FakeStore()
        let server = try await TestServer.start { _, request in store.respond(request) }
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: server.port)],
            credentials: .password(user: "alice", password: FakeStore.password))
        return (store, server, client)
    }

    @Test("upload then download gives back the same bytes", arguments: [
        0, 1, Limits.blockSize, Limits.blockSize + 1, 3 * Limits.blockSize + 5,
    ])
    func roundTrip(size: Int) async throws {
        let (store, server, client) = try await start()
        let scratch = try Scratch()
        let bytes = pattern(size)
        let local = scratch.write("source", bytes)
        let reports = Recorder<TransferProgress>()
        let uploaded = try await client.upload(
            from: local, to: try RemotePath("/file"), progress: { reports.append($0) })
        #expect(uploaded.size == UInt64(size))
        #expect(reports.all.last == TransferProgress(bytesDone: UInt64(size), totalBytes: UInt64(size)))
        let content = store.state.withLock { $0.contents[uploaded.id] }
        #expect(content?.blocks.count == BlockLayout(size: UInt64(size)).blockCount)

        try await client.download(try RemotePath("/file"), to: "\(scratch.path)/copy")
        #expect(scratch.read("copy") == bytes)
        #expect(scratch.names == ["copy", "source"], "no temporary file is left behind")
        await client.close()
        await server.stop()
    }

    @Test("zero blocks become holes, repeated blocks are sent once, a second upload sends nothing")
    func dedupAndHoles() async throws {
        let (store, server, client) = try await start()
        let scratch = try Scratch()
        let block = Limits.blockSize
        let a = pattern(block, seed: 1)
        let bytes = a + [UInt8](repeating: 0, count: block) + a + pattern(10, seed: 2)
        let local = scratch.write("source", bytes)

        let first = try await client.upload(from: local, to: try RemotePath("/f"))
        let content = try #require(store.state.withLock { $0.contents[first.id] })
        #expect(content.blocks.count == 4)
        #expect(content.blocks[1] == .hole)
        #expect(content.blocks[0] == content.blocks[2])
        #expect(store.state.withLock { $0.puts } == 2)

        let second = try await client.upload(from: local, to: try RemotePath("/f"))
        #expect(second.id == first.id)
        #expect(second.version == first.version + 1)
        #expect(store.state.withLock { $0.puts } == 2, "the server already held every block")

        try await client.download(try RemotePath("/f"), to: "\(scratch.path)/copy")
        #expect(scratch.read("copy") == bytes)
        await client.close()
        await server.stop()
    }

    @Test("a block that fails its hash check fails the download and writes nothing")
    func corruptBlock() async throws {
        let (store, server, client) = try await start()
        let scratch = try Scratch()
        let local = scratch.write("source", pattern(2 * Limits.blockSize))
        let node = try await client.upload(from: local, to: try RemotePath("/f"))
        store.state.withLock { state in _ = state.corrupt.insert(state.contents[node.id]!.blocks[1]) }

        let error = await #expect(throws: NetStoreError.self) {
            try await client.download(try RemotePath("/f"), to: "\(scratch.path)/copy")
        }
        #expect(error?.code == .corruptBlock)
        #expect(scratch.names == ["source"])
        await client.close()
        await server.stop()
    }

    @Test("the first reachable server of the list is used")
    func failover() async throws {
        let dead = try await TestServer.start { _, _ in .ignore }
        let deadPort = dead.port
        await dead.stop()
        let store = FakeStore()
        let server = try await TestServer.start { _, request in store.respond(request) }
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: deadPort), ServerAddress(host: "127.0.0.1", port: server.port)],
            credentials: .token(FakeStore.token))
        let session = try await client.requireSession()
        #expect(session.user.rootNode == FakeStore.root)
        #expect(session.token == FakeStore.token)
        #expect(client.currentServer?.port == server.port)
        await client.close()
        await server.stop()
    }

    @Test("no reachable server is an error that names the list")
    func nothingReachable() async throws {
        let dead = try await TestServer.start { _, _ in .ignore }
        let port = dead.port
        await dead.stop()
        let client = NetStoreClient(servers: [ServerAddress(host: "127.0.0.1", port: port)], credentials: .none)
        let error = await #expect(throws: NetStoreError.self) { try await client.ping() }
        #expect(error?.message == "cannot reach any server (127.0.0.1:\(port)): is netstore-server running?")
    }

    @Test("a wrong password is reported as such, not as an unreachable server")
    func badPassword() async throws {
        let store = FakeStore()
        let server = try await TestServer.start { _, request in store.respond(request) }
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: server.port)],
            credentials: .password(user: "alice", password: "wrong password"))
        let error = await #expect(throws: NetStoreError.self) { try await client.connect() }
        #expect(error?.code == .badCredentials)
        await server.stop()
    }

    @Test("after a lost connection, a read is retried on a new authenticated connection; a mutation is not")
    func reconnect() async throws {
        let store = FakeStore()
        let dropped = Atomic<Int>(0)
        // The first GETATTR and the first MKDIR each take the connection down with them.
        let server = try await TestServer.start { _, request in
            switch request {
            case .getattr where dropped.compareExchange(expected: 0, desired: 1, ordering: .relaxed).exchanged:
                return .close
            case .mkdir where dropped.compareExchange(expected: 1, desired: 2, ordering: .relaxed).exchanged:
                return .close
            default:
                return store.respond(request)
            }
        }
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: server.port)],
            credentials: .password(user: "alice", password: FakeStore.password))

        let root = try await client.getattr(FakeStore.root)
        #expect(root.kind == .directory)
        let authentications = store.state.withLock { $0.authentications }
        #expect(authentications == 2, "the new connection authenticated again")
        #expect(store.state.withLock { $0.requests.filter { $0 == .auth }.count } == 1, "with the token, not the password")

        let error = await #expect(throws: NetStoreError.self) {
            try await client.mkdir(parent: FakeStore.root, name: "d")
        }
        #expect(error?.code == .io)
        #expect(store.state.withLock { $0.entries[FakeStore.root]?["d"] } == nil, "the mkdir was not sent again")

        // The next request reconnects by itself.
        try await client.ping()
        await client.close()
        await server.stop()
    }

    @Test("a mutation a backup refuses goes to the primary once it is back")
    func notPrimary() async throws {
        let placeholder = try await TestServer.start { _, _ in .ignore }
        let primaryPort = placeholder.port
        await placeholder.stop()
        let backup = try await TestServer.start { _, request in
            switch request {
            case .auth: .reply(.success(.session(FakeStore.session(token: ""))))
            case .mkdir: .reply(.failure(NetStoreError(.notPrimary, "this server is a backup")))
            case .status: .reply(.success(.status(PrimaryWaitTests.status("backup"))))
            default: .reply(.success(.empty))
            }
        }
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: primaryPort), ServerAddress(host: "127.0.0.1", port: backup.port)],
            credentials: .token(FakeStore.token))
        try await client.ping()
        #expect(client.currentServer?.port == backup.port)

        let store = FakeStore()
        let primary = try await TestServer.start(port: primaryPort) { _, request in store.respond(request) }
        let made = try await client.mkdir(parent: FakeStore.root, name: "d")
        #expect(made.kind == .directory)
        #expect(client.currentServer?.port == primaryPort)
        await client.close()
        await primary.stop()
        await backup.stop()
    }
}
