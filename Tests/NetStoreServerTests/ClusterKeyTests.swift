import Foundation
import Logging
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreServer
import Testing

@Suite("Replication requests need the cluster key")
struct ClusterKeyTests {
    static let vote: Request = .replicate(
        from: 2, message: .voteRequest(VoteRequest(term: Term(99), last: LogPosition(index: LogIndex(0), term: Term(0)), preVote: false)))

    /// Every server-to-server request.
    static let serverToServer: [Request] = [
        vote, .replicaPutBlock(id: .hole, data: .init()),
        .snapshotBegin(from: 2, offer: SnapshotOffer(position: LogPosition(index: LogIndex(5), term: Term(1)), size: 10, sha256: [UInt8](repeating: 1, count: 32))),
        .snapshotChunk(from: 2, sha256: [UInt8](repeating: 1, count: 32), offset: 0, data: .init(bytes: [1, 2])),
    ]

    private func dispatcher(_ harness: DispatcherHarness, key: String?) -> RequestDispatcher {
        RequestDispatcher(
            store: harness.store, accounts: harness.accounts, threadPool: harness.pool,
            clusterKey: key, logger: Logger(label: "test"))
    }

    @Test("a server without replicas refuses replication requests from anyone")
    func unreplicated() async throws {
        let harness = try await DispatcherHarness()
        let (admin, _) = try await harness.session("admin", "admin-password")
        for session in [ConnectionSession(peer: "stranger"), admin] {
            for request in Self.serverToServer {
                guard case let .failure(error) = await harness.dispatcher.handle(request, session: session) else {
                    Issue.record("\(request.opcode) accepted without replicas"); continue
                }
                #expect(error.code == .notSupported)
            }
        }
    }

    @Test("only a connection that presented the key may send replication requests")
    func keyRequired() async throws {
        let harness = try await DispatcherHarness()
        let key = "a-cluster-key-of-some-length"
        let dispatcher = dispatcher(harness, key: key)

        let stranger = ConnectionSession(peer: "stranger")
        // A logged-in user (even an admin) is not a replica.
        let admin = ConnectionSession(peer: "admin")
        _ = await dispatcher.handle(.login(user: "admin", password: "admin-password"), session: admin)
        for (name, session) in [("a stranger", stranger), ("an admin", admin)] {
            for request in Self.serverToServer {
                guard case let .failure(refused) = await dispatcher.handle(request, session: session) else {
                    Issue.record("\(request.opcode) from \(name) without the key was accepted"); continue
                }
                #expect(refused.code == .accessDenied, "\(request.opcode) from \(name)")
            }
        }

        let wrong = ConnectionSession(peer: "guess")
        guard case let .failure(badKey) = await dispatcher.handle(.auth(token: key + "x"), session: wrong) else {
            Issue.record("a wrong key authenticated"); return
        }
        #expect(badKey.code == .badToken)
        #expect(await wrong.isReplica == false)

        let peer = ConnectionSession(peer: "peer")
        guard case .success(.session) = await dispatcher.handle(.auth(token: key), session: peer) else {
            Issue.record("the cluster key was refused"); return
        }
        #expect(await peer.isReplica)
        // The key grants replication only, never files.
        guard case let .failure(noFiles) = await dispatcher.handle(.getattr(node: 1), session: peer) else {
            Issue.record("a replica session read a file"); return
        }
        #expect(noFiles.code == .notAuthenticated)
    }

    @Test("cluster keys compare by value")
    func matching() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "short\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: NetStoreError.self) { try ClusterKey.read(from: file) }
        try "0123456789abcdef0123\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        let key = try ClusterKey.read(from: file)
        #expect(key == "0123456789abcdef0123")
        #expect(ClusterKey(key).matches("0123456789abcdef0123"))
        #expect(!ClusterKey(key).matches("0123456789abcdef0124"))
        #expect(!ClusterKey(key).matches("0123456789abcdef012"))
    }
}
