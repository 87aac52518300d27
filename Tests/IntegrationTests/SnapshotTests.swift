import Foundation
import NetStoreTestSupport
import Testing

@Suite("Wiped backups rejoin (log replay, snapshots)")
struct SnapshotIntegrationTests {
    /// Writes `count` files of a few blocks each and returns them.
    static func put(_ admin: CLI, _ cluster: Cluster, _ range: Range<Int>, size: (Int) -> Int) throws -> [(name: String, sha: String)] {
        var acknowledged: [(name: String, sha: String)] = []
        for index in range {
            let local = cluster.dir.path("in-\(index)")
            let sha = try writeRandomFile(local, size: size(index), seed: UInt64(index) + 900)
            let put = try admin.run("put", local.path, "/f\(index)")
            #expect(put.succeeded, "put \(index): \(put.stderr)")
            if put.succeeded { acknowledged.append(("/f\(index)", sha)) }
            try? FileManager.default.removeItem(at: local)
        }
        return acknowledged
    }

    /// Kills backup 2 and deletes its data directory.
    static func wipe(_ cluster: Cluster) throws {
        cluster.servers[2].kill9()
        try FileManager.default.removeItem(at: cluster.servers[2].dataDirectory)
    }

    /// Block files a server holds (blocks/xx/hash, named by their 64 hex digits).
    static func blockFileCount(_ server: ServerProcess) -> Int {
        let root = server.dataDirectory.appendingPathComponent("blocks").path
        let all = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
        return all.filter { !$0.hasPrefix("tmp") && ($0.split(separator: "/").last?.count ?? 0) == 64 }.count
    }

    static func login(_ cluster: Cluster) throws -> (CLI, String) {
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        let token = try rawLogin(RawConnection(port: cluster.ports[0]), "admin", ServerProcess.adminPassword).token
        return (admin, token)
    }

    /// Everything acknowledged is readable from the rejoined backup alone, and all digests agree.
    static func expectConverged(_ cluster: Cluster, token: String, _ acknowledged: [(name: String, sha: String)], admin: CLI) async throws {
        let (converged, digests) = try await cluster.convergedDigests(token: token)
        #expect(converged, "all three servers reach the same state: \(digests.map { "\($0.appliedIndex)" })")
        let alone = CLI(server: cluster.addresses[2], configDirectory: admin.configDirectory)
        for file in acknowledged {
            let out = cluster.dir.path("out")
            let get = try alone.run("get", file.name, out.path)
            #expect(get.succeeded, "get \(file.name) from the rejoined backup: \(get.stderr)")
            if get.succeeded { #expect(try sha256(of: out) == file.sha, "\(file.name)") }
            try? FileManager.default.removeItem(at: out)
        }
    }

    @Test("a wiped backup rejoins by log replay while the primary holds its whole log")
    func wipedBackupReplaysTheLog() async throws {
        let cluster = try await Cluster()
        let (admin, token) = try Self.login(cluster)
        var acknowledged = try Self.put(admin, cluster, 0..<4, size: { 100_000 + $0 * 700_001 })
        try Self.wipe(cluster)
        acknowledged += try Self.put(admin, cluster, 4..<6, size: { 3000 * $0 })
        try await cluster.servers[2].start()
        acknowledged += try Self.put(admin, cluster, 6..<8, size: { 3000 * $0 })
        try await Self.expectConverged(cluster, token: token, acknowledged, admin: admin)
        #expect(!cluster.servers[2].output.contains("snapshot installed"), "the log from index 1 was enough")
    }

    @Test("a wiped backup rejoins via snapshot after the primary compacted its log, and ends equal")
    func wipedBackupRejoinsViaSnapshot() async throws {
        let cluster = try await Cluster(extraArguments: ["--retain-log-entries", "4"])
        let (admin, token) = try Self.login(cluster)
        var acknowledged = try Self.put(admin, cluster, 0..<4, size: { 100_000 + $0 * 700_001 })
        try Self.wipe(cluster)
        // Each put is a commit or two: the primary's log start passes index 1.
        acknowledged += try Self.put(admin, cluster, 4..<12, size: { 3000 * $0 })
        try await cluster.servers[2].start()
        acknowledged += try Self.put(admin, cluster, 12..<16, size: { 5000 * $0 })
        try await Self.expectConverged(cluster, token: token, acknowledged, admin: admin)
        #expect(cluster.primary.output.contains("snapshot sent"), "the primary sent a snapshot:\n\(cluster.primary.output.suffix(3000))")
        #expect(cluster.servers[2].output.contains("snapshot installed"), "the backup installed it")
    }

    @Test("a snapshot transfer cut by kill -9 of the backup resumes without sending its body or blocks again")
    func interruptedSnapshotResumes() async throws {
        let cluster = try await Cluster(extraArguments: ["--retain-log-entries", "2"])
        let (admin, token) = try Self.login(cluster)
        // 40 blocks to transfer: long enough to cut in the middle.
        // Then a few entries without blocks, so the file's commit leaves the retained log
        // (a refused append still brings the blocks its entries need) and the log start
        // passes index 1: the wiped backup needs a snapshot as soon as it is back, and
        // with no writes meanwhile just the one.
        var acknowledged = try Self.put(admin, cluster, 0..<1, size: { _ in 40 << 20 })
        for index in 0..<4 { #expect(try admin.run("mkdir", "/d\(index)").succeeded) }
        try Self.wipe(cluster)
        let total = Self.blockFileCount(cluster.primary)
        let backup = cluster.servers[2]
        let staging = backup.dataDirectory.appendingPathComponent("snapshot-incoming")
        var cut: (position: String, received: Int)?
        // Watched on disk (the logs reach this process late). Should a loaded machine
        // let the whole transfer finish first, the backup is wiped and tried again.
        for _ in 0..<3 where cut == nil {
            try await backup.start()
            // Blocks of retained log entries may come first (with appends the backup
            // refuses); the body comes before the snapshot's blocks: cut among those.
            var baseline = 0
            var staged: String?
            _ = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(2)) {
                baseline = Self.blockFileCount(backup)
                staged = (try? FileManager.default.contentsOfDirectory(atPath: staging.path))?.first
                return staged != nil
            }
            _ = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(2)) {
                Self.blockFileCount(backup) >= baseline + 3
            }
            staged = (try? FileManager.default.contentsOfDirectory(atPath: staging.path))?.first
            backup.kill9()
            let received = Self.blockFileCount(backup)
            if let staged, received < total {
                // Named index-term-sha.snapshot.
                let parts = staged.split(separator: "-")
                cut = ("#\(parts[0])@t\(parts[1])", received)
            } else {
                try FileManager.default.removeItem(at: backup.dataDirectory)
            }
        }
        let (position, received) = try #require(cut, "a transfer was cut among its blocks")
        try await backup.start()
        acknowledged += try Self.put(admin, cluster, 1..<4, size: { 1000 * $0 })
        try await Self.expectConverged(cluster, token: token, acknowledged, admin: admin)

        // swift-log prints the metadata (sorted by key) before the message.
        let restarted = backup.output.components(separatedBy: "--- start").last ?? ""
        let offered = restarted.matches(of: /bytes=(\d+) held=(\d+) position=(\S+)/).first { $0.3 == position }
        #expect(offered != nil && offered!.1 == offered!.2, "the restarted backup held the whole body:\n\(restarted)")
        let blocks = cluster.primary.output.matches(of: /\bblocks=(\d+) .* position=(\S+) .*sending a snapshot/)
            .first { $0.2 == position }.map { Int($0.1)! }
        let sent = cluster.primary.output.matches(of: /blocks-sent=(\d+) .* position=(\S+) .*snapshot sent/)
            .first { $0.2 == position }.map { Int($0.1)! }
        // A block whose row the kill cut off may go again.
        #expect(blocks != nil && sent != nil && sent! <= blocks! - received + 1,
                "the transfer of \(position) went on after the restart and sent \(sent.map(String.init) ?? "?") of its \(blocks.map(String.init) ?? "?") blocks; \(received) were held before the kill")
    }
}
