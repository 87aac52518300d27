import Foundation
import Logging
import NIOPosix
import NetStoreAuth
import NetStoreCore
import NetStoreReplication
import NetStoreServer
import NetStoreStorage

/// A server without sockets: a real store in a temporary directory, a
/// replication engine over it with its loop running (its messages go to a
/// `RecordingTransport`), and a dispatcher that knows the cluster key.
final class ReplicaHarness: Sendable {
    static let clusterKey = "a-test-cluster-key"

    let directory: URL
    let pool: NIOThreadPool
    let store: Store
    let transport = RecordingTransport()
    let engine: ReplicationEngine
    let accounts: AccountService
    let dispatcher: RequestDispatcher
    private let loop: Task<Void, Never>

    init(_ label: String, id: ReplicaID, replicas: [ReplicaID], writeQuorum: Int,
         backupApplyBatch: Int = ReplicationEngine.defaultBackupApplyBatch, tickMilliseconds: Int = 10) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        store = try Store(directory: directory, logger: logger)
        engine = try ReplicationEngine(
            id: id, configuration: ReplicationConfiguration(replicas: replicas, writeQuorum: writeQuorum),
            store: store, transport: transport, backupApplyBatch: backupApplyBatch, logger: logger)
        loop = Task { [engine] in await engine.run(tickMilliseconds: tickMilliseconds) }
        accounts = AccountService(store: store, submitter: engine)
        dispatcher = RequestDispatcher(store: store, accounts: accounts, threadPool: pool, submitter: engine,
                                       replication: engine, clusterKey: Self.clusterKey, logger: logger)
    }

    /// A connection of another server of the cluster, authenticated with the cluster key.
    func replicaSession(_ peer: String) async throws -> ConnectionSession {
        let session = ConnectionSession(peer: peer)
        guard case .success = await dispatcher.handle(.auth(token: Self.clusterKey), session: session) else {
            throw NetStoreError(.accessDenied, "cluster key refused")
        }
        return session
    }

    func close() async throws {
        loop.cancel()
        await loop.value
        try await pool.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }
}
