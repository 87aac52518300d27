import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreAuth
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import Testing
@testable import NetStoreServer

@Suite("Small files' blocks travel with the append that commits them")
struct CarriedBlocksTests {
    static func block(_ fill: UInt8, count: Int = 1000) -> (BlockID, ByteBuffer) {
        let bytes = [UInt8](repeating: fill, count: count)
        return (BlockStore.id(of: bytes), ByteBuffer(bytes: bytes))
    }

    static func commit(size: UInt64, _ blocks: [BlockID]) -> [UInt8] {
        MutationCodec.encode(.commit(account: 1, node: 5, baseVersion: 1, size: size, blocks: blocks, now: 7))
    }

    static func append(_ payloads: [[UInt8]]) -> ReplicationMessage {
        .append(AppendEntries(
            term: Term(1), previous: .zero,
            entries: payloads.enumerated().map { LogEntry(term: Term(1), index: LogIndex(UInt64($0.offset + 1)), payload: $0.element) },
            commit: .zero))
    }

    @Test("the blocks of commits of small files, each once; not large files', holes or other entries")
    func selection() {
        let (small, _) = Self.block(1)
        let (other, _) = Self.block(2)
        let (large1, _) = Self.block(3)
        let (large2, _) = Self.block(4)
        let mkdir = MutationCodec.encode(.mkdir(account: 1, parent: 1, name: "d", mode: 0o755, uid: 0, gid: 0, now: 1))
        let message = Self.append([
            [], mkdir,
            Self.commit(size: 1000, [small]),
            Self.commit(size: 2 << 20, [large1, large2]),
            Self.commit(size: 1000, [small]),
            Self.commit(size: 64 << 10, [.hole, other]),
            [0xFF, 0xFF],  // malformed: refers to nothing
        ])
        #expect(CarriedBlocks.ids(for: message) == [small, other])
        #expect(CarriedBlocks.ids(for: .appendResponse(AppendResponse(
            term: Term(1), success: true, index: .zero, durable: .zero, hint: .zero))).isEmpty)
    }

    @Test("appends whose entries name no block, and answers, go as notices; the rest await their reply")
    func notices() {
        let (small, _) = Self.block(1)
        let mkdir = MutationCodec.encode(.mkdir(account: 1, parent: 1, name: "d", mode: 0o755, uid: 0, gid: 0, now: 1))
        let unlink = MutationCodec.encode(.unlink(account: 1, parent: 1, name: "f", now: 1))
        let holes = Self.commit(size: 64 << 10, [.hole])
        #expect(TCPReplicationTransport.needsNoReply(Self.append([])))  // a heartbeat
        #expect(TCPReplicationTransport.needsNoReply(Self.append([[], mkdir, unlink, holes, [0xFF, 0xFF]])))
        #expect(!TCPReplicationTransport.needsNoReply(Self.append([mkdir, Self.commit(size: 1000, [small]), unlink])))
        #expect(TCPReplicationTransport.needsNoReply(.appendResponse(AppendResponse(
            term: Term(1), success: true, index: .zero, durable: .zero, hint: .zero))))
        #expect(!TCPReplicationTransport.needsNoReply(.voteRequest(VoteRequest(
            term: Term(2), last: .zero, preVote: false))))
        #expect(EntryBlocks.referenced(by: [
            LogEntry(term: Term(1), index: LogIndex(1), payload: Self.commit(size: 9, [small, .hole, small])),
        ]) == [small])
    }

    @Test("no more than the byte budget goes with one append")
    func budget() {
        let perFile = CarriedBlocks.fileSizeLimit
        let count = Int(CarriedBlocks.byteBudget / perFile) + 3
        let ids = (0..<count).map { Self.block(UInt8($0), count: 10).0 }
        let carried = CarriedBlocks.ids(for: Self.append(ids.map { Self.commit(size: perFile, [$0]) }))
        #expect(carried == Array(ids.prefix(Int(CarriedBlocks.byteBudget / perFile))))
    }

    @Test("an append whose small files' blocks would not all travel with it is split into appends whose blocks do")
    func splitByCarriedBytes() {
        let perFile = CarriedBlocks.fileSizeLimit
        let count = 3 * Int(CarriedBlocks.byteBudget / perFile) + 1
        let ids = (0..<count).map { Self.block(UInt8(truncatingIfNeeded: $0), count: 10 + $0).0 }
        let message = Self.append(ids.map { Self.commit(size: perFile, [$0]) })
        let parts = TCPReplicationTransport.split(message)
        #expect(parts.count == 4)
        var previous = LogPosition.zero
        var carried: [BlockID] = []
        for part in parts {
            guard case .append(let append) = part else { Issue.record("not an append: \(part)"); return }
            // Each part follows the one before, and carries every block its entries refer to.
            #expect(append.previous == previous)
            previous = append.entries.last!.position
            let ids = CarriedBlocks.ids(for: part)
            #expect(ids.count == append.entries.count)
            carried += ids
        }
        #expect(carried == ids)
    }

    @Test("carried blocks go with the append's log write only if all are small, sound, and include every block its entries need")
    func carriedWithTheLogWrite() {
        let (a, aData) = Self.block(1)
        let (b, bData) = Self.block(2, count: 3000)
        let (large, largeData) = Self.block(3, count: Store.smallBlockLimit + 1)
        let both = RequestDispatcher.carriedSmallBlocks(
            [CarriedBlock(id: a, data: aData), CarriedBlock(id: b, data: bData)], covering: [b, a])
        #expect(both?.map(\.id) == [a, b])
        #expect(both?.map(\.bytes) == [Array(aData.readableBytesView), Array(bData.readableBytesView)])
        // More than the entries need is fine; less is not.
        #expect(RequestDispatcher.carriedSmallBlocks([CarriedBlock(id: a, data: aData)], covering: [])?.count == 1)
        #expect(RequestDispatcher.carriedSmallBlocks([CarriedBlock(id: a, data: aData)], covering: [a, b]) == nil)
        #expect(RequestDispatcher.carriedSmallBlocks(
            [CarriedBlock(id: a, data: aData), CarriedBlock(id: large, data: largeData)], covering: [a]) == nil)
        #expect(RequestDispatcher.carriedSmallBlocks([CarriedBlock(id: a, data: bData)], covering: [a]) == nil)
    }

    @Test("a backup writes carried blocks in the log write of the entries that need them, then answers the primary")
    func backupWritesCarriedBlocksWithEntries() async throws {
        let h = try ReplicaHarness("carried-log", id: ReplicaID(2), replicas: [ReplicaID(1), ReplicaID(2), ReplicaID(3)], writeQuorum: 2)
        let (store, dispatcher) = (h.store, h.dispatcher)
        let primary = try await h.replicaSession("primary")
        let (a, aData) = Self.block(5)
        let (b, bData) = Self.block(6, count: 2000)
        let answer = await dispatcher.handle(.replicateWithBlocks(
            from: 1, blocks: [CarriedBlock(id: a, data: aData), CarriedBlock(id: b, data: bData)],
            message: Self.append([[], Self.commit(size: 1000, [a]), Self.commit(size: 2000, [b])])), session: primary)
        #expect(answer == .success(.blocksNeeded([])))
        // The answer says the entries are durable: they are, with their blocks.
        let deadline = ContinuousClock.now + .seconds(30)
        while !h.transport.sent.withLock({ sent in
            sent.contains { if case .appendResponse(let r) = $0.message, $0.to == ReplicaID(1) { r.durable == LogIndex(3) } else { false } }
        }) {
            try #require(ContinuousClock.now < deadline, "no answer durable through 3")
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try store.loadReplicationState().entries.map(\.index) == [1, 2, 3])
        #expect(try store.getBlock(a) == Array(aData.readableBytesView))
        #expect(try store.getBlock(b) == Array(bData.readableBytesView))
        try await h.close()
    }

    @Test("a backup stores carried blocks before it checks the append; a carried block with wrong bytes is asked for")
    func backupStoresCarriedBlocks() async throws {
        let h = try ReplicaHarness("carried", id: ReplicaID(2), replicas: [ReplicaID(1), ReplicaID(2), ReplicaID(3)], writeQuorum: 2)
        let (store, dispatcher) = (h.store, h.dispatcher)
        let primary = try await h.replicaSession("primary")

        let (good, goodData) = Self.block(1)
        let (bad, _) = Self.block(2)
        let (_, otherData) = Self.block(3)
        let answer = await dispatcher.handle(.replicateWithBlocks(
            from: 1, blocks: [CarriedBlock(id: good, data: goodData), CarriedBlock(id: bad, data: otherData)],
            message: Self.append([[], Self.commit(size: 1000, [good]), Self.commit(size: 1000, [bad])])), session: primary)
        #expect(answer == .success(.blocksNeeded([bad])))
        #expect(try store.getBlock(good) == Array(goodData.readableBytesView))
        #expect(try store.hasBlocks([good, bad], now: 1) == [true, false])

        let client = ConnectionSession(peer: "client")
        let refused = await dispatcher.handle(.replicateWithBlocks(
            from: 1, blocks: [CarriedBlock(id: bad, data: otherData)], message: Self.append([[]])), session: client)
        guard case .failure(let error) = refused else { throw NetStoreError(.invalid, "a client's replication request was answered") }
        #expect(error.code == .accessDenied)
        try await h.close()
    }
}
