import Foundation
import Logging
import NIOPosix
import NetStoreCore
import NetStoreReplication
import NetStoreServer
import NetStoreStorage
import Testing

/// A single-server engine over a real store; `stop()` ends its loop.
final class EngineHarness: @unchecked Sendable {
    let directory: URL
    let pool: NIOThreadPool
    var store: Store
    var engine: ReplicationEngine
    var loop: Task<Void, Never>

    init(directory: URL? = nil) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        store = try Store(directory: self.directory, logger: Logger(label: "test"))
        (engine, loop) = try Self.start(store: store, pool: pool)
    }

    static func start(store: Store, pool: NIOThreadPool) throws -> (ReplicationEngine, Task<Void, Never>) {
        let id = ReplicaID(1)
        let engine = try ReplicationEngine(
            id: id, configuration: ReplicationConfiguration(replicas: [id], writeQuorum: 1),
            store: store, transport: nil, logger: Logger(label: "test"))
        return (engine, Task { await engine.run(tickMilliseconds: 10) })
    }

    func promote() async {
        engine.post(.promote)
        await engine.waitUntilPrimary()
    }

    deinit {
        loop.cancel()
        try? pool.syncShutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("Replication engine, one server")
struct ReplicationEngineTests {
    static let admin = Mutation.addUser(name: "alice", role: .admin, passwordHash: "h", now: 1)

    @Test("concurrent mutations share log writes and each gets its own apply result")
    func concurrentMutations() async throws {
        let h = try EngineHarness()
        await h.promote()
        let user = try #require(try await h.engine.submit(Self.admin).user)
        let engine = h.engine
        let results = await withTaskGroup(of: (Int, Result<MutationResult, NetStoreError>).self) { group in
            for i in 0..<60 {
                group.addTask {
                    // Every name twice: exactly one of each pair is created.
                    let mkdir = Mutation.mkdir(account: user.id, parent: user.rootNode, name: "d\(i / 2)",
                                               mode: 0o755, uid: 0, gid: 0, now: Int64(10 + i))
                    do { return (i, .success(try await engine.submit(mkdir))) }
                    catch { return (i, .failure(error as! NetStoreError)) }
                }
            }
            var all: [(Int, Result<MutationResult, NetStoreError>)] = []
            for await result in group { all.append(result) }
            return all
        }
        let created = results.filter { if case .success = $0.1 { true } else { false } }
        #expect(created.count == 30)
        #expect(results.allSatisfy { if case .failure(let e) = $0.1 { e.code == .exists } else { true } })
        let status = h.engine.status
        #expect(status.isPrimary)
        #expect(status.appliedIndex == status.lastIndex)
        let stored = try h.store.loadReplicationState()
        #expect(stored.appliedIndex == status.lastIndex)
        // A term-start entry, the user, 60 mkdirs: fewer log writes than entries is not
        // visible here, but every entry is in the durable log.
        #expect(stored.entries.count == 62)
        #expect(try h.store.digest().appliedIndex == status.lastIndex)
    }

    @Test("blocks submitted with a mutation are stored with its log entry; one too large for the database is refused before the log, and the engine goes on")
    func blocksWithTheirEntry() async throws {
        let h = try EngineHarness()
        await h.promote()
        let user = try #require(try await h.engine.submit(Self.admin).user)
        let bytes = [UInt8](repeating: 7, count: 3000)
        let id = BlockStore.id(of: bytes)
        let made = try await h.engine.submit(
            .createFile(account: user.id, parent: user.rootNode, name: "f", mode: 0o644, uid: 0, gid: 0,
                        size: 3000, blocks: [id], now: 20),
            origin: nil, storing: [(id, bytes)], now: 20)
        #expect(made.attributes?.size == 3000)
        #expect(try h.store.getBlock(id) == bytes)
        #expect(try h.store.content(account: user.id, node: #require(made.attributes).id).blocks == [id])

        let large = [UInt8](repeating: 8, count: Store.smallBlockLimit + 1)
        let lastBefore = h.engine.status.lastIndex
        do {
            _ = try await h.engine.submit(
                .createFile(account: user.id, parent: user.rootNode, name: "g", mode: 0o644, uid: 0, gid: 0,
                            size: UInt64(large.count), blocks: [BlockStore.id(of: large)], now: 21),
                origin: nil, storing: [(BlockStore.id(of: large), large)], now: 21)
            Issue.record("a block too large for the database was accepted")
        } catch let error as NetStoreError {
            #expect(error.code == .invalid)
        }
        #expect(h.engine.status.lastIndex == lastBefore)
        let dir = try await h.engine.submit(.mkdir(account: user.id, parent: user.rootNode, name: "d", mode: 0o755, uid: 0, gid: 0, now: 22))
        #expect(dir.attributes?.kind == .directory)
    }

    @Test("entries durable in the log but not applied are applied when the server starts again")
    func reappliesTheLogOnStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        do {
            let store = try Store(directory: directory, logger: Logger(label: "test"))
            let (engine, loop) = try EngineHarness.start(store: store, pool: pool)
            engine.post(.promote)
            await engine.waitUntilPrimary()
            let user = try #require(try await engine.submit(Self.admin).user)
            loop.cancel()
            await loop.value
            // As if the process died after the log write and before the apply.
            let state = try store.loadReplicationState()
            let mkdir = Mutation.mkdir(account: user.id, parent: user.rootNode, name: "late", mode: 0o700, uid: 0, gid: 0, now: 5)
            try store.writeLog(truncatingFrom: nil, entries: [
                StoredLogEntry(index: state.entries.last!.index + 1, term: state.term, payload: MutationCodec.encode(mkdir))])
        }
        let store = try Store(directory: directory, logger: Logger(label: "test"))
        let (engine, loop) = try EngineHarness.start(store: store, pool: pool)
        defer { loop.cancel() }
        engine.post(.promote)
        await engine.waitUntilPrimary()
        #expect(engine.status.term == 2)
        let late = try store.lookup(account: 1, parent: 1, name: "late")
        #expect(late.kind == .directory && late.mode == 0o700)
        #expect(try store.digest().appliedIndex == engine.status.lastIndex)
        try await pool.shutdownGracefully()
    }

    @Test("a server that is not primary refuses mutations with not-primary")
    func backupRefuses() async throws {
        let h = try EngineHarness()
        let error = await #expect(throws: NetStoreError.self) { try await h.engine.submit(Self.admin) }
        #expect(error?.code == .notPrimary)
        #expect(error?.code.errno == 30)
    }
}
