import NetStoreTestSupport
import Foundation
import NetStoreCore
import NetStoreProtocol
import Testing

@Suite("Replication across three real servers")
struct ReplicationTests {
    @Test("a backup killed and restarted during writes ends with every acknowledged file; digests equal")
    func backupCrashDuringWrites() async throws {
        let cluster = try await Cluster()
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)

        var acknowledged: [(name: String, sha: String)] = []
        for index in 0..<24 {
            if index == 8 { cluster.servers[2].kill9() }
            if index == 16 { try await cluster.servers[2].start() }
            let local = cluster.dir.path("in-\(index)")
            let sha = try writeRandomFile(local, size: 1000 + index * 70_001, seed: UInt64(index) + 100)
            let put = try admin.run("put", local.path, "/f\(index)")
            // With one backup down the primary and the other backup are still a majority.
            #expect(put.succeeded, "put \(index): \(put.stderr)")
            if put.succeeded { acknowledged.append(("/f\(index)", sha)) }
        }
        #expect(acknowledged.count == 24)

        let token = try rawLogin(RawConnection(port: cluster.ports[0]), "admin", ServerProcess.adminPassword).token
        let (converged, digests) = try await cluster.convergedDigests(token: token)
        #expect(converged, "all three servers reach the same state: \(digests.map { "\($0.appliedIndex)" })")
        try cluster.expectOnEveryServer(acknowledged, configDirectory: admin.configDirectory)
    }

    @Test("a large file's put is acknowledged within the proposal deadline and is whole on every server")
    func largeFile() async throws {
        let cluster = try await Cluster()
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        // Its blocks reach the backups only with the commit that needs them; sent one by one,
        // each waiting for a backup's fsync, they outlasted the commit's deadline.
        let local = cluster.dir.path("big")
        let sha = try writeRandomFile(local, size: 256 << 20, seed: 77)
        let put = try admin.run("put", local.path, "/big")
        #expect(put.succeeded, "put of 256 MiB: \(put.stderr)")
        try? FileManager.default.removeItem(at: local)
        let caughtUp = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(200)) {
            let applied = try admin.run("status").stdout.matches(of: /applied (\d+)/).map { String($0.1) }
            return applied.count == 3 && Set(applied).count == 1
        }
        #expect(caughtUp, "the backups apply the commit")
        let status = try admin.run("status").stdout
        #expect(status.components(separatedBy: "lag in sync").count - 1 == 3, "status shows each server in sync: \(status)")
        try cluster.expectOnEveryServer([("/big", sha)], configDirectory: admin.configDirectory)
    }

    @Test("backups refuse changes; without a majority writes fail clearly and resume when a backup returns")
    func quorum() async throws {
        let cluster = try await Cluster()
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        #expect(try admin.run("mkdir", "/a").succeeded)

        let backupOnly = CLI(server: cluster.addresses[1], configDirectory: admin.configDirectory)
        let refused = try backupOnly.run("mkdir", "/b")
        #expect(refused.status == 1, "a backup refuses a change")
        // A backup applies an entry once it hears it committed (the next append or heartbeat).
        let served = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            try backupOnly.run("ls", "/").stdout.contains("a")
        }
        #expect(served, "a backup serves reads")

        cluster.servers[1].kill9()
        cluster.servers[2].kill9()
        let lonely = try admin.run("mkdir", "/c")
        #expect(lonely.status == 1, "no majority: the change is refused or times out")
        #expect(!lonely.stderr.isEmpty, "and says why")

        try await cluster.servers[1].start()
        let resumed = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(300)) {
            try admin.run("mkdir", "-p", "/d").succeeded
        }
        #expect(resumed, "writes resume once a backup is back")
    }

    @Test("a backup that lacks an acknowledged change is refused promotion, and the refusal names the address of the one to promote instead")
    func promotionRefusedNamesAddress() async throws {
        let cluster = try await Cluster()
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        #expect(try await Self.caughtUp(admin), "every server applied the login")
        // Backup 1 writes nothing while the primary and backup 2 acknowledge a change,
        // and dies with it unread (a restart, not SIGCONT: it would read what its socket holds).
        cluster.servers[1].send(SIGSTOP)
        #expect(try admin.run("mkdir", "/only-on-two").succeeded)
        cluster.servers[0].kill9()
        cluster.servers[1].kill9()
        try await cluster.servers[1].start()

        let refused = try admin.run("promote", cluster.addresses[1])
        #expect(!refused.succeeded, "r2 holds an acknowledged change r1 lacks")
        #expect(refused.stderr.contains("promotion refused") && refused.stderr.contains("is \(cluster.addresses[2])"),
                "the refusal names the address to promote: \(refused.stderr)")
        let promoted = try admin.run("promote", cluster.addresses[2])
        #expect(promoted.succeeded, "promote: \(promoted.stderr)")
        // The new primary applies it once an entry of its own term commits; backup 1 once it hears so.
        let listed = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            try admin.run("ls", "/").stdout.contains("only-on-two")
        }
        #expect(listed, "the acknowledged change survives the promotion")
    }

    @Test("kill -9 of the primary, promote a backup: nothing acknowledged is lost, reads go on, writes resume, the old primary rejoins")
    func promotion() async throws {
        let cluster = try await Cluster()
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        var acknowledged: [(name: String, sha: String)] = []
        for index in 0..<6 {
            let local = cluster.dir.path("in-\(index)")
            let sha = try writeRandomFile(local, size: 5000 + index * 300_001, seed: UInt64(index) + 500)
            if try admin.run("put", local.path, "/f\(index)").succeeded { acknowledged.append(("/f\(index)", sha)) }
        }
        #expect(acknowledged.count == 6)
        // Backups apply the last entry when the next heartbeat tells them it committed;
        // wait for that, so the reads below see everything acknowledged.
        #expect(try await Self.caughtUp(admin), "the backups apply what the primary acknowledged")

        cluster.servers[0].kill9()
        // Reads go on from the backups while there is no primary.
        let listing = try admin.run("ls", "/")
        #expect(listing.succeeded && listing.stdout.contains("f5"), "reads without a primary: \(listing.stderr)")
        let refused = try admin.run("mkdir", "/during")
        #expect(refused.status == 1, "no primary: a change is refused")

        let promote = try admin.run("promote", cluster.addresses[1])
        #expect(promote.succeeded, "promote: \(promote.stderr)")
        let resumed = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(300)) {
            try admin.run("mkdir", "-p", "/after").succeeded
        }
        #expect(resumed, "writes resume on the new primary")
        let extra = cluster.dir.path("extra")
        let extraSha = try writeRandomFile(extra, size: 2_500_000, seed: 77)
        #expect(try admin.run("put", extra.path, "/extra").succeeded)
        acknowledged.append(("/extra", extraSha))

        // The old primary comes back as a backup and catches up.
        try await cluster.restart(0, role: "backup")
        let token = try rawLogin(RawConnection(port: cluster.ports[1]), "admin", ServerProcess.adminPassword).token
        let (converged, digests) = try await cluster.convergedDigests(token: token)
        #expect(converged, "the old primary rejoins with the same state: \(digests.map { "\($0.appliedIndex)" })")
        try cluster.expectOnEveryServer(acknowledged, configDirectory: admin.configDirectory)
        let status = try admin.run("status")
        #expect(status.stdout.contains("\(cluster.addresses[1])  primary"), "\(status.stdout)")
    }

    /// Waits until every server reports the same applied index (asked through `admin`).
    static func caughtUp(_ admin: CLI) async throws -> Bool {
        try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            let applied = try admin.run("status").stdout.matches(of: /applied (\d+)/).map { String($0.1) }
            return applied.count == 3 && Set(applied).count == 1
        }
    }
}
