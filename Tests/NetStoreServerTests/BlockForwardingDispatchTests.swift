import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreAuth
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreServer
import NetStoreStorage
import Synchronization
import Testing

/// Records the messages and the blocks handed to it; sends nothing.
final class RecordingTransport: ReplicationTransport {
    let forwarded = Mutex<[BlockID]>([])
    let sent = Mutex<[(to: ReplicaID, message: ReplicationMessage)]>([])
    func send(_ message: ReplicationMessage, to replica: ReplicaID) { sent.withLock { $0.append((replica, message)) } }
    func sendSnapshot(_ snapshot: StoreSnapshot, header: SnapshotHeader, to replica: ReplicaID) { snapshot.close() }
    var reachablePeers: Int { 0 }
    func forwardBlock(_ id: BlockID, bytes: ByteBuffer) { forwarded.withLock { $0.append(id) } }
}

@Suite("Which stored blocks are forwarded to the backups")
struct BlockForwardingDispatchTests {
    static func block(_ fill: UInt8) -> (BlockID, ByteBuffer) {
        let bytes = [UInt8](repeating: fill, count: 1000)
        return (BlockStore.id(of: bytes), ByteBuffer(bytes: bytes))
    }

    @Test("the primary forwards a client's PUT_BLOCK once stored, not a refused one nor one from a replica")
    func primaryForwardsClientBlocks() async throws {
        let h = try ReplicaHarness("forward", id: ReplicaID(1), replicas: [ReplicaID(1)], writeQuorum: 1)
        let (engine, dispatcher, transport) = (h.engine, h.dispatcher, h.transport)
        let client = ConnectionSession(peer: "client")
        engine.post(.promote)
        await engine.waitUntilPrimary()
        let passwordFile = h.directory.appendingPathComponent("admin-pw")
        try "admin-password".write(to: passwordFile, atomically: true, encoding: .utf8)
        _ = try await h.accounts.bootstrapAdmin(passwordFile: passwordFile, dataDirectory: h.directory, logger: Logger(label: "test"))
        guard case .success = await dispatcher.handle(.login(user: "admin", password: "admin-password"), session: client) else {
            throw NetStoreError(.badCredentials, "admin login")
        }

        let (good, goodData) = Self.block(2)
        #expect(await dispatcher.handle(.putBlock(id: good, data: goodData), session: client) == .success(.empty))
        let (other, _) = Self.block(3)
        let refused = await dispatcher.handle(.putBlock(id: other, data: goodData), session: client)
        #expect(refused != .success(.empty), "bytes that do not match their id are refused")

        let replica = try await h.replicaSession("replica")
        let (replicated, replicatedData) = Self.block(4)
        #expect(await dispatcher.handle(.replicaPutBlock(id: replicated, data: replicatedData), session: replica) == .success(.empty))

        #expect(transport.forwarded.withLock { $0 } == [good], "only the client's stored block on the primary")
        try await h.close()
    }
}
