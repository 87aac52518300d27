import NetStoreTestSupport
import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import Testing

@Suite("A backup's answers travel as notices, which have no reply")
struct ReplicateNoticeTests {
    static let answer = ReplicationMessage.appendResponse(AppendResponse(
        term: Term(0), success: true, index: LogIndex(0), durable: LogIndex(0)))

    @Test("the backups answer the primary's appends with notices only, and get appends that name no block as notices; neither replies")
    func backupsAnswerWithNotices() async throws {
        let cluster = try await Cluster(extraArguments: ["--metrics-listen", "127.0.0.1:0"])
        guard let match = cluster.servers[0].output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/),
              let metricsPort = Int(match.1) else { throw TestFailure("no metrics address in:\n\(cluster.servers[0].output)") }
        let primary = try RawConnection(port: cluster.ports[0])
        let session = try rawLogin(primary, "admin", ServerProcess.adminPassword)
        let notices = #"netstore_requests_total{opcode="replicateNotice",result="ok"}"#
        let requests = #"netstore_requests_total{opcode="replicate",result="ok"}"#
        let backupPorts = try cluster.servers.dropFirst().map { backup in
            guard let found = backup.output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/),
                  let port = Int(found.1) else { throw TestFailure("no metrics address in:\n\(backup.output)") }
            return port
        }
        let before = try scrape(port: metricsPort)
        let backupsBefore = try backupPorts.map { try scrape(port: $0) }
        for index in 0..<5 {
            guard case .success = try primary.call(.mkdir(parent: session.user.rootNode, name: "d\(index)", mode: 0o755, uid: 0, gid: 0)) else {
                throw TestFailure("mkdir d\(index) failed")
            }
        }
        let samples = try scrape(port: metricsPort)
        let replication = samples.filter { $0.key.contains("replicat") }
        // The backups got the mkdirs' appends (which name no block) as notices too.
        // (The write quorum needs one of them: the other may take them a moment later.)
        for (port, earlier) in zip(backupPorts, backupsBefore) {
            var later: [String: Double] = [:]
            let all = try await waitUntil(timeout: .seconds(10)) {
                later = try scrape(port: port)
                return (later[notices] ?? 0) - (earlier[notices] ?? 0) >= 5
            }
            let shown = later.filter { $0.key.contains("replicat") }
            #expect(all, "\(shown)")
            #expect(later[requests] == earlier[requests], "an append came as a request awaiting its reply: \(shown)")
        }
        // Each mkdir was acknowledged only after a backup's answer reached the primary.
        #expect((samples[notices] ?? 0) - (before[notices] ?? 0) >= 5, "\(replication)")
        // (The backups' votes when the primary took office are requests, before the mkdirs.)
        #expect(samples[requests] == before[requests], "no answer came as a request awaiting its reply: \(replication)")
    }

    @Test("a notice is not answered; a refused one ends the connection with the reason")
    func noticeReplies() async throws {
        let cluster = try await Cluster()
        let key = try String(contentsOf: cluster.keyFile, encoding: .utf8)
        // Replica ids are positions in the sorted list of addresses (ServerConfiguration.replicaIDs).
        let addresses = cluster.ports.map { "127.0.0.1:\($0)" }
        let primaryID = UInt32(addresses.sorted().firstIndex(of: addresses[0])! + 1)
        let peer = try RawConnection(port: cluster.ports[1])
        guard case .success(.session) = try peer.call(.auth(token: key)) else { throw TestFailure("cluster key refused") }
        _ = try peer.send(.replicateNotice(from: primaryID, message: Self.answer))
        // The next frame is the ping's reply: nothing answered the notice.
        let ping = try peer.send(.ping)
        let next = try #require(try peer.receive())
        if next.requestID != ping { Issue.record("unexpected frame \(next.requestID) \(next.opcode) \(next.result)") }

        // From a connection that did not present the cluster key.
        let stranger = try RawConnection(port: cluster.ports[1])
        _ = try stranger.send(.replicateNotice(from: primaryID, message: Self.answer))
        let refusal = try #require(try stranger.receive())
        #expect(refusal.requestID == 0)
        guard case .failure(let error) = refusal.result else { throw TestFailure("a stranger's notice was accepted") }
        #expect(error.code == .accessDenied && error.message.contains("cluster key"), "\(error)")
        #expect(try stranger.isClosedByPeer())

        // An append whose entries name no block (here none: a heartbeat's) needs no reply either.
        _ = try peer.send(.replicateNotice(from: primaryID, message: .append(AppendEntries(term: Term(0), previous: .zero, entries: [], commit: .zero))))
        let ping2 = try peer.send(.ping)
        let next2 = try #require(try peer.receive())
        if next2.requestID != ping2 { Issue.record("unexpected frame \(next2.requestID) \(next2.opcode) \(next2.result)") }

        // One naming a block could be refused for it, so it needs its reply: refused as a notice.
        let block = BlockStore.id(of: [UInt8](repeating: 7, count: 100))
        let commit = MutationCodec.encode(.commit(account: 1, node: 1, baseVersion: 1, size: 100, blocks: [block], now: 1))
        _ = try peer.send(.replicateNotice(from: primaryID, message: .append(AppendEntries(
            term: Term(0), previous: .zero, entries: [LogEntry(term: Term(0), index: LogIndex(1), payload: commit)], commit: .zero))))
        let refused = try #require(try peer.receive())
        guard case .failure(let wrongKind) = refused.result else { throw TestFailure("an append naming a block was accepted as a notice") }
        #expect(refused.requestID == 0 && wrongKind.code == .invalid, "\(wrongKind)")
        #expect(try peer.isClosedByPeer())
        #expect(cluster.servers[1].isRunning)
    }
}
