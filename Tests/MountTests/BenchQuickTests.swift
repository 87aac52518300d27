import Foundation
import NetStoreTestSupport
import Testing

/// `Scripts/bench --quick` runs every workload on NetStore, sshfs and a local
/// directory and reports them all. It proves the benchmark works end to end;
/// it never judges speed.
@Suite("Scripts/bench --quick")
struct BenchQuickTests {
    static let rows = ["seq_write", "seq_read", "rand_read_1", "rand_read_4", "small_create", "small_ls",
                       "small_stat", "small_read", "small_delete", "tree_mkdir", "tree_rmrf", "cp_tree",
                       "diff_tree", "small_create_wb", "small_delete_wb", "tree_rmrf_wb", "cp_tree_wb", "ls_large"]
    static let replicationRows = ["small_mount", "large_mount", "large_cli", "small_cli"]

    @Test("reports a figure for every workload on all three targets, memory and the replication cost")
    func quickRun() async throws {
        try MountFixture.requireFUSE()
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }

        let process = Process()
        process.executableURL = repo.appendingPathComponent("Scripts/bench")
        process.arguments = ["--quick", "--bin-dir", Binaries.directory.path, "--out", out.path]
        process.currentDirectoryURL = repo
        let output = LogBuffer()
        try output.launch(process)
        // A guard against a hang only (the quick run takes about a minute);
        // SIGTERM makes the script clean up what it started.
        do {
            try await waitFor("Scripts/bench --quick to finish", log: output, timeout: .seconds(600)) { !process.isRunning }
        } catch {
            process.terminate()
            process.waitUntilExit()
            throw error
        }
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "Scripts/bench --quick exited \(process.terminationStatus):\n\(output.value)")

        let data = try Data(contentsOf: out.appendingPathComponent("bench.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["mode"] as? String == "quick")
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.compactMap { $0["id"] as? String } == Self.rows)
        for row in rows {
            let values = try #require(row["values"] as? [String: Any], "row \(row)")
            for target in ["netstore", "sshfs", "local"] {
                #expect((values[target] as? NSNumber).map { $0.doubleValue >= 0 } == true, "\(row["id"] ?? "?") on \(target): \(values)")
            }
            #expect(row["ratio_sshfs"] is NSNumber && row["ratio_local"] is NSNumber, "\(row)")
        }
        let memory = try #require(json["memory_kib"] as? [String: Any])
        for process in ["netstore-mount", "netstore-server (primary)", "netstore-server (backup1)",
                        "netstore-server (backup2)", "sshfs"] {
            #expect((memory[process] as? NSNumber).map { $0.intValue > 0 } == true, "\(process): \(memory)")
        }
        let replication = try #require(json["replication"] as? [[String: Any]])
        #expect(replication.compactMap { $0["id"] as? String } == Self.replicationRows)
        for row in replication {
            let values = try #require(row["values"] as? [String: Any])
            for quorum in ["1", "2", "3"] {
                #expect((values[quorum] as? NSNumber).map { $0.doubleValue > 0 } == true, "\(row["id"] ?? "?") at quorum \(quorum)")
            }
        }
        let svg = try String(contentsOf: out.appendingPathComponent("bench.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("</svg>"))
    }
}
