import Foundation
import Logging
import NIOPosix
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import Testing
@testable import NetStoreServer

@Suite("Log compaction in the engine; staging snapshot bodies")
struct SnapshotServerTests {
    @Test("the engine keeps the last N applied entries, and a restart resumes from the compacted log")
    func compaction() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let id = ReplicaID(1)
        let configuration = ReplicationConfiguration(replicas: [id], writeQuorum: 1)
        var digest: (appliedIndex: UInt64, sha256: [UInt8])
        do {
            let store = try Store(directory: directory, logger: Logger(label: "test"))
            let engine = try ReplicationEngine(
                id: id, configuration: configuration, store: store, transport: nil,
                retainedLogEntries: 5, logger: Logger(label: "test"))
            let loop = Task { await engine.run(tickMilliseconds: 10) }
            engine.post(.promote)
            await engine.waitUntilPrimary()
            let user = try #require(try await engine.submit(ReplicationEngineTests.admin).user)
            for i in 0..<30 {
                _ = try await engine.submit(.mkdir(account: user.id, parent: user.rootNode, name: "d\(i)", mode: 0o755, uid: 1, gid: 1, now: 5))
            }
            let state = try store.loadReplicationState()
            #expect(state.logStartIndex > 0, "compacted")
            #expect(state.appliedIndex - state.logStartIndex >= 5 && state.appliedIndex - state.logStartIndex <= 6)
            #expect(state.entries.first?.index == state.logStartIndex + 1)
            digest = try store.digest()
            loop.cancel()
            await loop.value
        }
        // Reopened: the replica starts from the log start, re-applies nothing it lost, and goes on.
        // The first store's lock goes with its last reference, which a finishing task may hold a moment longer.
        var reopened: Store?
        let deadline = ContinuousClock.now + .seconds(10)
        while reopened == nil {
            do {
                reopened = try Store(directory: directory, logger: Logger(label: "test"))
            } catch let error as NetStoreError where error.code == .tryAgain && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let store = try #require(reopened)
        let engine = try ReplicationEngine(
            id: id, configuration: configuration, store: store, transport: nil,
            retainedLogEntries: 5, logger: Logger(label: "test"))
        let loop = Task { await engine.run(tickMilliseconds: 10) }
        #expect(try store.digest() == digest)
        engine.post(.promote)
        await engine.waitUntilPrimary()
        _ = try await engine.submit(.mkdir(account: 1, parent: 1, name: "later", mode: 0o755, uid: 1, gid: 1, now: 6))
        #expect(try store.digest().appliedIndex > digest.appliedIndex)
        loop.cancel()
        await loop.value
        try await pool.shutdownGracefully()
    }

    @Test("a staged body resumes where it ended, refuses strangers' chunks, and lists the blocks it lacks")
    func staging() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("staging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try Store(directory: directory.appendingPathComponent("source"), logger: Logger(label: "test"))
        let target = try Store(directory: directory.appendingPathComponent("target"), logger: Logger(label: "test"))
        let bytes: [UInt8] = Array("block".utf8)
        let block = BlockStore.id(of: bytes)
        try bytes.withUnsafeBytes { try source.putBlock(block, bytes: $0, now: 1) }
        _ = try source.apply(.addUser(name: "u", role: .admin, passwordHash: "h", now: 1), index: 1, term: 1)
        _ = try source.apply(.mknod(account: 1, parent: 1, name: "f", kind: .file, mode: 0o644, uid: 1, gid: 1, now: 2), index: 2, term: 1)
        _ = try source.apply(.commit(account: 1, node: 2, baseVersion: 0, size: 5, blocks: [block], now: 3), index: 3, term: 1)
        let url = directory.appendingPathComponent("body")
        let snapshot = try source.openSnapshot()
        let info = try snapshot.write(to: url)
        snapshot.close()
        let body = [UInt8](try Data(contentsOf: url))
        let position = LogPosition(index: LogIndex(3), term: Term(1))
        let offer = SnapshotOffer(position: position, size: info.size, sha256: info.sha256)
        let header = SnapshotHeader(term: Term(1), position: position)

        let receiver = SnapshotReceiver(dataDirectory: target.directory, logger: Logger(label: "test"))
        #expect(try receiver.begin(offer) == 0)
        let half = body.count / 2
        #expect(try receiver.append(sha256: info.sha256, offset: 0, data: Array(body[..<half])) == UInt64(half))
        // A chunk at the wrong offset is not written; the answer says where to go on.
        #expect(try receiver.append(sha256: info.sha256, offset: 1, data: [1, 2]) == UInt64(half))
        #expect(throws: NetStoreError.self) { try receiver.append(sha256: [UInt8](repeating: 0, count: 32), offset: UInt64(half), data: [1]) }
        #expect(throws: NetStoreError.self) { try receiver.prepareInstall(header, store: target, now: 1) }

        // A new receiver (a restarted server) resumes from the staged file.
        let again = SnapshotReceiver(dataDirectory: target.directory, logger: Logger(label: "test"))
        #expect(try again.begin(offer) == UInt64(half))
        #expect(try again.append(sha256: info.sha256, offset: UInt64(half), data: Array(body[half...])) == info.size)
        #expect(try again.prepareInstall(header, store: target, now: 1) == [block])
        try bytes.withUnsafeBytes { try target.putBlock(block, bytes: $0, now: 1) }
        #expect(try again.prepareInstall(header, store: target, now: 1) == [])
        let staged = try #require(again.stagedFile(for: position))
        try target.installSnapshot(at: staged, now: 9)
        #expect(try target.digest() == source.digest())

        // A body that does not hash to its offer is discarded.
        let liar = SnapshotOffer(position: position, size: info.size, sha256: [UInt8](repeating: 7, count: 32))
        #expect(try again.begin(liar) == 0)
        _ = try again.append(sha256: liar.sha256, offset: 0, data: body)
        #expect(throws: NetStoreError.self) { try again.prepareInstall(header, store: target, now: 1) }
        #expect(again.stagedFile(for: position) == nil)
    }
}
