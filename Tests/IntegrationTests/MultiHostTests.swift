import Foundation
import NetStoreTestSupport
import Testing

/// Three servers on three "hosts" (network namespaces with their own addresses), over TLS,
/// and a client on a fourth. Needs root and iproute2: without them these fail.
@Suite("Three servers on three hosts", .serialized)
struct MultiHostTests {
    @Test("a put through the client is readable, byte for byte, from each backup's address alone")
    func replication() async throws {
        let cluster = try await MultiHostCluster()
        let admin = cluster.cli()
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        var files: [(name: String, sha: String)] = []
        for index in 0..<2 {
            let local = cluster.dir.path("in-\(index)")
            let sha = try writeRandomFile(local, size: 3000 + index * 200_001, seed: UInt64(index) + 900)
            let put = try admin.run("put", local.path, "/f\(index)")
            #expect(put.succeeded, "put \(index): \(put.stderr)")
            files.append(("/f\(index)", sha))
        }
        // A backup applies the last entry once the next heartbeat says it committed.
        #expect(try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) { try cluster.caughtUp(admin) })
        for address in cluster.addresses.dropFirst() {
            try expectFiles(files, readFrom: admin.with(server: address), in: cluster.dir)
        }
    }

    @Test("the primary's link cut: reads fail over, a promoted backup takes writes, the isolated primary acknowledges none, and it rejoins with nothing lost")
    func partitionedPrimary() async throws {
        let cluster = try await MultiHostCluster()
        let admin = cluster.cli()
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        var acknowledged: [(name: String, sha: String)] = []
        for index in 0..<2 {
            let local = cluster.dir.path("in-\(index)")
            let sha = try writeRandomFile(local, size: 4000 + index * 150_001, seed: UInt64(index) + 700)
            let put = try admin.run("put", local.path, "/f\(index)")
            #expect(put.succeeded, "put \(index): \(put.stderr)")
            if put.succeeded { acknowledged.append(("/f\(index)", sha)) }
        }
        #expect(try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) { try cluster.caughtUp(admin) })

        try cluster.network.cut(0)
        // A client on the old primary's own host still reaches it; what it writes there
        // must not be acknowledged: the primary cannot make it durable on a second server.
        let isolated = cluster.cli(on: 0, server: cluster.addresses[0], configDirectory: admin.configDirectory)
        async let split = isolated.runAsync("mkdir", "/split")

        // Reads fail over: the old primary is unreachable, so a backup serves them.
        try expectFiles([acknowledged[1]], readFrom: admin, in: cluster.dir)

        let promote = try admin.run("promote", cluster.addresses[1])
        #expect(promote.succeeded, "promote: \(promote.stderr)")
        let extra = cluster.dir.path("extra")
        let extraSha = try writeRandomFile(extra, size: 300_000, seed: 71)
        var put = CommandResult(status: -1, stdout: "", stderr: "not tried")
        let resumed = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(300)) {
            put = try admin.run("put", extra.path, "/extra")
            return put.succeeded
        }
        #expect(resumed, "writes resume on the new primary: \(put.stderr)")
        if resumed { acknowledged.append(("/extra", extraSha)) }

        let refused = try await split
        #expect(!refused.succeeded, "the isolated old primary acknowledged a write: split brain")
        // Its peers looked reachable (a cut link fails no exchange at once), so the
        // write entered its log and waited for a second durable copy until its deadline.
        #expect(refused.stderr.contains("was not durable on 2 servers (the write quorum) within"),
                "it times out waiting for the write quorum: \(refused.stderr)")

        try cluster.network.restore(0)
        // The old primary hears of the newer term and follows the new primary.
        let rejoined = try await waitUntil(timeout: .seconds(60), interval: .milliseconds(300)) {
            let status = try admin.run("status").stdout
            guard status.contains("\(cluster.addresses[0])  backup") else { return false }
            return try cluster.caughtUp(admin)
        }
        let finalStatus = try admin.run("status").stdout
        #expect(rejoined, "the old primary rejoins as a backup: \(finalStatus)")
        let verify = try admin.run("verify", "--catch-up", "30")
        #expect(verify.succeeded, "verify: \(verify.stdout)\(verify.stderr)")
        try expectFiles(acknowledged, readFrom: admin.with(server: cluster.addresses[0]), in: cluster.dir)
        let listing = try admin.with(server: cluster.addresses[0]).run("ls", "/")
        #expect(listing.succeeded && !listing.stdout.contains("split"), "the unacknowledged write is gone: \(listing.stdout)")
    }

    /// Reads each file through `reader` and checks its SHA-256.
    private func expectFiles(_ files: [(name: String, sha: String)], readFrom reader: NamespacedCLI,
                             in dir: TemporaryDirectory) throws {
        for file in files {
            let out = dir.path("out-\(UUID().uuidString.prefix(6))")
            let get = try reader.run("get", file.name, out.path)
            #expect(get.succeeded, "get \(file.name) from \(reader.server): \(get.stderr)")
            if get.succeeded { #expect(try sha256(of: out) == file.sha, "\(file.name) from \(reader.server)") }
            try? FileManager.default.removeItem(at: out)
        }
    }
}
