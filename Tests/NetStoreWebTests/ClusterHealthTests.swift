import NetStoreTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NetStoreClient
import NetStoreCore
import Testing
@testable import NetStoreWeb

@Suite("Cluster health page")
struct ClusterHealthTests {
    @Test("three real servers and an unreachable one: role, term, lag (in sync), blocks and bytes per server")
    func realCluster() async throws {
        let cluster = try await WebCluster()
        // A port nothing listens on: the page must say that server is unreachable.
        let missing = ServerAddress(host: "127.0.0.1", port: try freePorts(1)[0])
        let configuration = cluster.configuration(servers: cluster.addresses + [missing])
        let writer = NetStoreClient(servers: cluster.addresses, credentials: .password(user: "admin", password: ServerProcess.adminPassword))
        try await writer.connect()
        let root = try await writer.resolve(try RemotePath("/"))
        for index in 0..<3 {
            let file = try await writer.create(parent: root.id, name: "f\(index)", mode: 0o644)
            let block = randomBytes(10_000 + index, seed: UInt64(index) + 7)
            let id = StreamingUpload.blockID(of: .init(bytes: block))
            try await writer.putBlock(id, data: .init(bytes: block))
            _ = try await writer.commit(file.id, baseVersion: file.version, size: UInt64(block.count), blocks: [id])
        }
        await writer.close()

        try await buildApplication(configuration).test(.router) { client in
            let admin = Browser(client)
            try await admin.login("admin", password: ServerProcess.adminPassword)
            // Backups apply what the primary committed on its next append or heartbeat.
            var page = ""
            let synced = try await Self.poll(timeout: .seconds(20)) {
                page = try await admin.get("/admin/cluster").text
                return page.components(separatedBy: "in sync").count - 1 == 3
            }
            #expect(synced, "every reachable server in sync:\n\(page)")
            for (index, address) in cluster.addresses.enumerated() {
                let row = try Self.row(address.description, in: page)
                #expect(row.contains("reachable"))
                #expect(row.contains("<td class=\"role\">\(index == 0 ? "primary" : "backup")</td>"), "\(row)")
                #expect(row.contains("<td class=\"num term\">"))
                #expect(row.contains("data-lag=\"0\""))
                // Three distinct blocks were written; each server stores them (about 30 kB).
                #expect(row.contains("<td class=\"num blocks\">3</td>"), "\(row)")
                #expect(row.contains("title=\"30003 bytes\""), "\(row)")
            }
            let down = try Self.row(missing.description, in: page)
            #expect(down.contains("unreachable"))
            #expect(!down.contains("in sync"))
            #expect(page.contains("3 of 4 servers reachable"))
        }
    }

    @Test("lag: the entries a server's log lacks, and the committed ones it has yet to apply; an old primary in an earlier term is not the reference")
    func lagging() {
        let primary = ServerStatus(role: "primary", softwareVersion: "1", uptimeSeconds: 5, nodeCount: 1, userCount: 1,
                                   blockCount: 0, blockBytes: 0, term: 3, lastIndex: 120, commitIndex: 118, appliedIndex: 118)
        var backup = primary
        backup.role = "backup"
        backup.lastIndex = 100
        backup.appliedIndex = 100
        let lag = ReplicationLag(of: backup, primary: primary)
        #expect(lag.behindLog == 20 && lag.behindCommit == 18 && !lag.inSync)
        #expect(lag.description == "20 entries behind, 18 committed to apply")
        // Its log complete, committed entries held to apply together: in sync.
        var holding = backup
        holding.lastIndex = 120
        #expect(ReplicationLag(of: holding, primary: primary).inSync)
        #expect(ReplicationLag(of: holding, primary: primary).description == "in sync, 18 committed to apply")
        backup.lastIndex = 119
        backup.appliedIndex = 118
        #expect(ReplicationLag(of: backup, primary: primary).description == "1 entry behind")
        // The primary is the reference: its uncommitted entries are no lag.
        #expect(ReplicationLag(of: primary, primary: primary).description == "in sync")
        // An old primary from an earlier term is not the one the lag is measured against.
        var stale = primary
        stale.term = 2
        stale.lastIndex = 500
        #expect(ReplicationLag.primary(among: [stale, backup, primary])?.term == 3)
        #expect(ReplicationLag.primary(among: [backup]) == nil)
    }

    /// The table row of one server.
    static func row(_ server: String, in page: String) throws -> String {
        guard let start = page.range(of: "<tr data-server=\"\(server)\"") else { throw TestFailure("no row for \(server)") }
        let rest = page[start.lowerBound...]
        return String(rest[..<(rest.range(of: "</tr>")?.upperBound ?? rest.endIndex)])
    }

    /// Polls an async condition until it holds or the deadline passes.
    static func poll(timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }
}
