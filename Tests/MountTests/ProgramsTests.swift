import Foundation
import NetStoreTestSupport
import Testing

/// Real programs that lean on a file system's details: git (renames, hard
/// links, fsync) and SQLite (random writes, locks, fsync).
@Suite("Programs on a real mount", .serialized)
struct ProgramsTests {
    @Test("git init, commits and git fsck inside the mount")
    func git() async throws {
        try await MountFixture.with { m in
            let repo = m.path("repo")
            let output = LogBuffer()
            var environment = ProcessInfo.processInfo.environment
            environment["GIT_AUTHOR_NAME"] = "Test"
            environment["GIT_AUTHOR_EMAIL"] = "test@example.invalid"
            environment["GIT_COMMITTER_NAME"] = "Test"
            environment["GIT_COMMITTER_EMAIL"] = "test@example.invalid"
            #expect(m.run("git", ["init", "-q", repo], output: output, environment: environment) == 0, "\(output.value)")
            var random = SeededRandom(seed: 11)
            for commit in 0..<5 {
                for file in 0..<20 {
                    #expect(Posix.write("\(repo)/file\(file).txt", random.bytes(Int(random.next() % 5000) + commit)) == 0)
                }
                #expect(m.run("git", ["-C", repo, "add", "-A"], output: output, environment: environment) == 0, "\(output.value)")
                #expect(m.run("git", ["-C", repo, "commit", "-q", "-m", "commit \(commit)"], output: output, environment: environment) == 0,
                        "\(output.value)")
            }
            #expect(m.run("git", ["-C", repo, "gc", "-q"], output: output, environment: environment) == 0, "\(output.value)")
            #expect(m.run("git", ["-C", repo, "fsck", "--full", "--strict"], output: output, environment: environment) == 0,
                    "\(output.value)")
            let log = LogBuffer()
            #expect(m.run("git", ["-C", repo, "rev-list", "--count", "HEAD"], output: log, environment: environment) == 0)
            #expect(log.value.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
        }
    }

    @Test("an SQLite database with random writes inside the mount passes integrity_check")
    func sqlite() async throws {
        try await MountFixture.with { m in
            var random = SeededRandom(seed: 23)
            var sql = "PRAGMA journal_mode=DELETE;\nCREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);\n"
            for batch in 0..<20 {
                sql += "BEGIN;\n"
                for row in 0..<100 {
                    sql += "INSERT INTO t VALUES (\(batch * 100 + row), randomblob(\(random.next() % 2000 + 1)));\n"
                }
                sql += "UPDATE t SET v = randomblob(\(random.next() % 4000 + 1)) WHERE id % 7 = \(batch % 7);\n"
                sql += "DELETE FROM t WHERE id % 13 = \(batch % 13) AND id < \(batch * 50);\n"
                sql += "COMMIT;\n"
            }
            sql += "VACUUM;\n"
            let script = m.root.appendingPathComponent("load.sql")
            try sql.write(to: script, atomically: true, encoding: .utf8)
            let database = m.path("data.db")
            let output = LogBuffer()
            #expect(m.run("sqlite3", [database, ".read \(script.path)"], output: output) == 0, "\(output.value)")
            let check = LogBuffer()
            #expect(m.run("sqlite3", [database, "PRAGMA integrity_check; SELECT count(*) > 1000 FROM t;"], output: check) == 0)
            #expect(check.value == "ok\n1\n", "\(check.value)")
        }
    }

    @Test("a 2 GiB file round-trips through the mount with equal SHA-256")
    func largeFile() async throws {
        try await MountFixture.with { m in
            let local = m.root.appendingPathComponent("big").path
            let back = m.root.appendingPathComponent("big-back").path
            let output = LogBuffer()
            #expect(m.run("dd", ["if=/dev/urandom", "of=\(local)", "bs=1M", "count=2048", "status=none"], output: output) == 0,
                    "\(output.value)")
            #expect(m.run("cp", [local, m.path("big")], output: output) == 0, "\(output.value)")
            // Remount so that the copy back reads from the servers, not from this mount's caches.
            await m.unmount()
            try await m.startMount()
            #expect(m.run("cp", [m.path("big"), back], output: output) == 0, "\(output.value)")
            let sums = LogBuffer()
            #expect(m.run("sha256sum", [local, back], output: sums) == 0)
            let digests = sums.value.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
            #expect(digests.count == 2 && digests[0] == digests[1] && digests[0].count == 64, "\(sums.value)")
            unlink(local)
            unlink(back)
        }
    }
}
