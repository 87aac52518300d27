import NetStoreTestSupport
import Foundation
import Testing

@Suite("Verify and repair across three real servers")
struct VerifyTests {
    /// Every block file under a server's data directory, by block id (hex).
    private func blockFiles(_ server: ServerProcess) -> [String: URL] {
        let root = server.dataDirectory.appendingPathComponent("blocks")
        let all = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
        var files: [String: URL] = [:]
        for path in all where !path.hasPrefix("tmp") && (path.split(separator: "/").last?.count ?? 0) == 64 {
            files[String(path.split(separator: "/").last!)] = root.appendingPathComponent(path)
        }
        return files
    }

    private func flipByte(_ url: URL, at offset: UInt64) throws {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte ^ 0x01])
    }

    @Test("a byte flipped in a block file on one server is detected by verify, repaired by verify --repair, and never served; a deleted one is reported missing and repaired")
    func detectRepairNeverServe() async throws {
        let cluster = try await Cluster()
        let admin = CLI(server: cluster.serverList, configDirectory: cluster.dir.path("config-admin"))
        try admin.login("admin", password: ServerProcess.adminPassword, in: cluster.dir)
        let local = cluster.dir.path("in")
        let sha = try writeRandomFile(local, size: 1_500_000, seed: 42)  // two blocks
        let put = try admin.run("put", local.path, "/f")
        #expect(put.succeeded, "put: \(put.stderr)")
        // A backup applies the commit (and the admin's session) a moment after the primary.
        var last: CLI.Result?
        let clean = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            last = try admin.run("verify", "--catch-up", "2")
            return last!.succeeded
        }
        try #require(clean, "a healthy cluster verifies: \(last?.stdout ?? "") \(last?.stderr ?? "")")
        #expect(last!.stdout.split(separator: "\n").filter { $0.contains("  ok  ") && $0.contains("blocks 2 checked") }.count == 3,
                "\(last!.stdout)")

        let onOne = blockFiles(cluster.servers[1])
        let onTwo = blockFiles(cluster.servers[2])
        try #require(onOne.count == 2 && Set(onOne.keys) == Set(onTwo.keys), "both backups hold the file's two blocks")
        let (flipped, deleted) = (onOne.keys.sorted()[0], onOne.keys.sorted()[1])
        try flipByte(onOne[flipped]!, at: 100)
        try FileManager.default.removeItem(at: onTwo[deleted]!)

        let found = try admin.run("verify")
        #expect(found.status == 1, "damage makes verify fail: \(found.stdout)")
        #expect(found.stdout.contains("\(cluster.addresses[1])  PROBLEM") && found.stdout.contains("corrupt block \(flipped)"),
                "\(found.stdout)")
        #expect(found.stdout.contains("\(cluster.addresses[2])  PROBLEM") && found.stdout.contains("missing block \(deleted)"),
                "\(found.stdout)")
        #expect(found.stdout.contains("\(cluster.addresses[0])  ok"), "\(found.stdout)")
        #expect(found.stderr.contains("netstore verify --repair"), "names the fix: \(found.stderr)")

        let repaired = try admin.run("verify", "--repair")
        #expect(repaired.succeeded, "\(repaired.stdout)\n\(repaired.stderr)")
        #expect(repaired.stdout.contains("\(cluster.addresses[1])  repaired block \(flipped)"), "\(repaired.stdout)")
        #expect(repaired.stdout.contains("\(cluster.addresses[2])  repaired block \(deleted)"), "\(repaired.stdout)")
        #expect(try sha256(of: onOne[flipped]!) == flipped, "the flipped file holds its block again")
        #expect(try sha256(of: onTwo[deleted]!) == deleted, "the deleted file is back")

        // Damage again, then read through the damaged server alone: the good bytes
        // come back, and that server repaired its own copy on the way.
        try flipByte(onOne[flipped]!, at: 5000)
        let damagedOnly = CLI(server: cluster.addresses[1], configDirectory: admin.configDirectory)
        let out = cluster.dir.path("out")
        let get = try damagedOnly.run("get", "/f", out.path)
        #expect(get.succeeded, "\(get.stderr)")
        #expect(try sha256(of: out) == sha, "the read returns the file's true content")
        #expect(try sha256(of: onOne[flipped]!) == flipped, "the server repaired its file while serving the read")
        #expect(try admin.run("verify").succeeded, "and the cluster verifies clean")

        // Reads name every server: with the primary and one backup gone, the file
        // still comes back whole (metadata and blocks from the backup left).
        cluster.servers[0].kill9()
        cluster.servers[2].kill9()
        let survivor = cluster.dir.path("out-survivor")
        let read = try admin.run("get", "/f", survivor.path)
        #expect(read.succeeded, "\(read.stderr)")
        #expect(try sha256(of: survivor) == sha)
    }
}
