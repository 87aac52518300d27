import NIOCore
import NetStoreCore
import NetStoreProtocol
import Synchronization
import Testing
@testable import NetStoreClient

@Suite("Block reads spread over servers")
struct ReadSpreadingTests {
    @Test("servers with as many reads in flight take turns; the least busy goes first")
    func order() {
        var spreader = ReadSpreader(serverCount: 3)
        let now = ContinuousClock.now
        #expect(spreader.order(now: now) == [0, 1, 2])
        #expect(spreader.order(now: now) == [1, 2, 0])
        #expect(spreader.order(now: now) == [2, 0, 1])
        spreader.started(2)
        spreader.started(0)
        spreader.started(0)
        #expect(spreader.order(now: now) == [1, 2, 0])
        spreader.finished(0)
        spreader.finished(0)
        spreader.finished(2)
        #expect(spreader.order(now: now) == [1, 2, 0])
    }

    @Test("a paused server goes last until its pause is over")
    func pause() {
        var spreader = ReadSpreader(serverCount: 3)
        let now = ContinuousClock.now
        spreader.pause(0, until: now + .seconds(2))
        #expect(spreader.order(now: now) == [1, 2, 0])
        #expect(spreader.order(now: now) == [1, 2, 0])
        #expect(spreader.order(now: now + .seconds(3)) == [2, 0, 1])
        spreader.pause(1, until: now + .seconds(2))
        spreader.resume(1)
        #expect(spreader.order(now: now) == [1, 2, 0], "server 0 is still paused, server 1 no longer")
    }

    /// Three scripted servers; `block` answers one server's GET_BLOCK. Counts GET_BLOCKs per server.
    private func servers(
        _ block: @escaping @Sendable (_ server: Int) -> Result<Response, NetStoreError>
    ) async throws -> (servers: [TestServer], gets: GetCounts) {
        let gets = GetCounts()
        var started: [TestServer] = []
        for index in 0..<3 {
            started.append(try await TestServer.start { [gets] _, request in
                switch request {
                case .auth: return .reply(.success(.session(FakeStore.session(token: FakeStore.token))))
                case .getBlock:
                    gets.counts.withLock { $0[index] += 1 }
                    return .reply(block(index))
                default: return .reply(.failure(NetStoreError(.notSupported, "not scripted")))
                }
            })
        }
        return (started, gets)
    }

    private func client(_ servers: [TestServer]) -> NetStoreClient {
        NetStoreClient(
            servers: servers.map { ServerAddress(host: "127.0.0.1", port: $0.port) },
            credentials: .token(FakeStore.token))
    }

    @Test("reads go to every server in turn")
    func spreads() async throws {
        let bytes: [UInt8] = Array(repeating: 7, count: 1000)
        let id = BlockID(bytes: BlockReaders.hash(of: ByteBuffer(bytes: bytes)))!
        let (servers, gets) = try await servers { _ in .success(.block(ByteBuffer(bytes: bytes))) }
        let client = client(servers)
        for _ in 0..<6 {
            #expect(Array(try await client.readBlock(id).readableBytesView) == bytes)
        }
        #expect(gets.counts.withLock { $0 } == [2, 2, 2])
        await client.close()
        for server in servers { await server.stop() }
    }

    @Test("a server without the block or with a bad copy is passed over; only all failing fails")
    func fallsBack() async throws {
        let bytes: [UInt8] = Array(repeating: 9, count: 4000)
        let id = BlockID(bytes: BlockReaders.hash(of: ByteBuffer(bytes: bytes)))!
        let (servers, _) = try await servers { server in
            switch server {
            case 0: .failure(NetStoreError(.noEntry, "block is not stored on this server"))
            case 1: .success(.block(ByteBuffer(bytes: Array(repeating: 8, count: 4000))))
            default: .success(.block(ByteBuffer(bytes: bytes)))
            }
        }
        let client = client(servers)
        for _ in 0..<3 {
            #expect(Array(try await client.readBlock(id).readableBytesView) == bytes)
        }
        await servers[2].stop()
        do {
            _ = try await client.readBlock(id)
            Issue.record("no good copy left, yet the read succeeded")
        } catch {
            #expect(error.code == .corruptBlock, "a bad copy makes it EIO: \(error)")
            #expect(error.message.contains("any server"), "\(error.message)")
        }
        await client.close()
        for server in servers.prefix(2) { await server.stop() }
    }

    @Test("digests are compared at one applied index; the odd one out differs")
    func digests() {
        let a = StateDigest(appliedIndex: 5, sha256: Array(repeating: 1, count: 32))
        let b = StateDigest(appliedIndex: 5, sha256: Array(repeating: 2, count: 32))
        let old = StateDigest(appliedIndex: 4, sha256: Array(repeating: 1, count: 32))
        #expect(DigestComparison.evaluate([a, a, a]) == [.agrees, .agrees, .agrees])
        #expect(DigestComparison.evaluate([a, b, a]) == [.agrees, .differs, .agrees])
        #expect(DigestComparison.evaluate([a, b]) == [.undecided, .undecided])
        #expect(DigestComparison.evaluate([a, old, nil]) == [.agrees, .behind(appliedIndex: 4, others: 5), .unknown])
        #expect(DigestComparison.evaluate([nil, nil]) == [.unknown, .unknown])
        #expect(DigestComparison.atSameIndex([a, nil, b]) && !DigestComparison.atSameIndex([a, old]))
    }
}

/// GET_BLOCK requests per scripted server.
final class GetCounts: Sendable {
    let counts = Mutex([0, 0, 0])
}
