import Foundation
import NetStoreTestSupport
import Testing

@Suite("Replication progress in the Prometheus metrics")
struct ReplicationMetricsTests {
    @Test("the primary shows each backup's lag: 0 after a write, above 0 for a backup that is down")
    func backupLag() async throws {
        let cluster = try await Cluster(extraArguments: ["--metrics-listen", "127.0.0.1:0"])
        let metricsPorts = try cluster.servers.map { server in
            guard let match = server.output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/),
                  let port = Int(match.1) else { throw TestFailure("no metrics address in:\n\(server.output)") }
            return port
        }
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        #expect(try admin.run("mkdir", "/a").succeeded)

        let backups = Array(cluster.addresses.dropFirst())
        var primary: [String: Double] = [:]
        let inSync = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            primary = try scrape(port: metricsPorts[0])
            let last = primary["netstore_replication_last_index"]
            return backups.allSatisfy { backup in
                primary[#"netstore_replication_backup_lag_entries{backup="\#(backup)"}"#] == 0
                    && primary[#"netstore_replication_backup_match_index{backup="\#(backup)"}"#] == last
            }
        }
        #expect(inSync, "both backups at the primary's last index with lag 0: \(primary.filter { $0.key.contains("replication") })")
        #expect((primary["netstore_replication_last_index"] ?? 0) > 0)
        let backupScrape = try scrape(port: metricsPorts[1])
        #expect(!backupScrape.keys.contains { $0.hasPrefix("netstore_replication_backup_") },
                "only the primary reports backups")
        #expect(backupScrape["netstore_replication_applied_index"] != nil, "every server reports its applied index")

        cluster.servers[2].kill9()
        #expect(try admin.run("mkdir", "/b").succeeded, "the primary and one backup are a majority")
        let behind = #"netstore_replication_backup_lag_entries{backup="\#(backups[1])"}"#
        let alive = #"netstore_replication_backup_lag_entries{backup="\#(backups[0])"}"#
        let lagging = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            primary = try scrape(port: metricsPorts[0])
            return (primary[behind] ?? 0) > 0 && primary[alive] == 0
        }
        #expect(lagging, "the killed backup lags, the other does not: \(primary.filter { $0.key.contains("backup") })")
    }
}

/// GET /metrics on 127.0.0.1:`port`; each sample line as "name{labels}" → value.
func scrape(port: Int) throws -> [String: Double] {
    let text = try httpGet(port: port, path: "/metrics")
    guard text.hasPrefix("HTTP/1.1 200"), let body = text.components(separatedBy: "\r\n\r\n").dropFirst().first else {
        throw TestFailure("metrics answer: \(text.prefix(200))")
    }
    var samples: [String: Double] = [:]
    for line in body.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}
