import NetStoreCore
import NetStoreProtocol
import Testing

@testable import NetStoreClient

@Suite("Paths and status against an in-memory store")
struct ClientPathTests {
    @Test("mkdir -p creates what is missing, accepts what exists, and resolve names the missing path")
    func makeDirectoriesAndResolve() async throws {
        let store = FakeStore()
        let server = try await TestServer.start { _, request in store.respond(request) }
        let client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: server.port)], credentials: .token(FakeStore.token))

        let made = try await client.makeDirectories(try RemotePath("/a/b/c"))
        #expect(made.kind == .directory)
        let again = try await client.makeDirectories(try RemotePath("/a/b/c"))
        #expect(again.id == made.id)
        #expect(try await client.resolve("/a/b/c").id == made.id)

        let missing = await #expect(throws: NetStoreError.self) { try await client.resolve("/a/x/c") }
        #expect(missing?.code == .noEntry)
        #expect(missing?.message == "/a/x/c: no such file or directory")

        let exists = await #expect(throws: NetStoreError.self) { try await client.makeDirectory(try RemotePath("/a")) }
        #expect(exists?.message == "/a: file exists")
        await client.close()
        await server.stop()
    }

    @Test("status reports each server, reachable or not, in list order")
    func clusterStatus() async throws {
        let status = ServerStatus(
            role: "primary", softwareVersion: "0.1", uptimeSeconds: 5, nodeCount: 1, userCount: 1,
            blockCount: 0, blockBytes: 0)
        let live = try await TestServer.start { _, request in
            request == .status ? .reply(.success(.status(status))) : .reply(.failure(NetStoreError(.notImplemented)))
        }
        let dead = try await TestServer.start { _, _ in .ignore }
        let deadPort = dead.port
        await dead.stop()
        let probes = await ClusterStatus.probe(
            [ServerAddress(host: "127.0.0.1", port: deadPort), ServerAddress(host: "127.0.0.1", port: live.port)],
            token: nil)
        #expect(probes.map(\.server.port) == [deadPort, live.port])
        #expect(throws: NetStoreError.self) { try probes[0].result.get() }
        #expect(try probes[1].result.get() == status)
        await live.stop()
    }
}
