import Foundation
import NetStoreTestSupport
import Testing

/// A mount on a primary and two backups while servers die under a `cp -r`.
@Suite("Server deaths during a copy", .serialized)
struct ServerDeathTests {
    /// A local tree of `files` small files in ten directories.
    static func makeTree(_ m: MountFixture, files: Int, seed: UInt64) throws -> String {
        let source = m.root.appendingPathComponent("tree").path
        var random = SeededRandom(seed: seed)
        for index in 0..<files {
            let dir = "\(source)/dir\(index % 10)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            #expect(Posix.write("\(dir)/file\(index)", random.bytes(Int(random.next() % 4000) + 1)) == 0)
        }
        return source
    }

    /// Files under `path`, counted with a walk (the mount's view).
    static func count(_ path: String) -> Int {
        (FileManager.default.enumerator(atPath: path)?.allObjects.count) ?? 0
    }

    @Test("kill -9 of a backup during cp -r of 200 files: the copy completes, diff -r is clean, the mount lives")
    func backupDies() async throws {
        try await MountFixture.with(cluster: true) { m in
            let source = try Self.makeTree(m, files: 200, seed: 5)
            let copy = try ChildProcess("cp", ["-r", source, m.path("copy")], logPath: m.root.appendingPathComponent("cp.log").path)
            try await waitFor("cp to be under way", log: m.mountLog) { Self.count(m.path("copy")) >= 40 || copy.poll() != nil }
            let killed = ContinuousClock.now
            m.killServer(2)
            let status = await copy.wait(timeout: .seconds(120))
            print("cp -r with a backup killed: status \(status.map(String.init) ?? "hung"), \(ContinuousClock.now - killed) after the kill")
            #expect(status == 0, "cp: \(copy.output)")
            let diff = LogBuffer()
            #expect(m.run("diff", ["-r", source, m.path("copy")], output: diff) == 0, "\(diff.value)")
            #expect(m.isMounted && m.mount?.isRunning == true)
        }
    }

    @Test("kill -9 of the primary during cp -r, then promote: cp's changes wait and end on the new primary (at most the one in flight fails with EIO), the mount lives, closed files are kept")
    func primaryDies() async throws {
        try await MountFixture.with(cluster: true) { m in
            let login = m.loginCLI()
            #expect(login.status == 0, "login: \(login.output)")
            // Closed (so committed on a majority) before anything dies.
            var random = SeededRandom(seed: 9)
            let kept = (0..<5).map { _ in random.bytes(Int(random.next() % 100_000) + 1) }
            for (index, bytes) in kept.enumerated() { #expect(Posix.write(m.path("kept\(index)"), bytes) == 0) }

            let source = try Self.makeTree(m, files: 200, seed: 6)
            let copy = try ChildProcess("cp", ["-r", source, m.path("copy")], logPath: m.root.appendingPathComponent("cp.log").path)
            try await waitFor("cp to be under way", log: m.mountLog) { Self.count(m.path("copy")) >= 40 || copy.poll() != nil }
            let killed = ContinuousClock.now
            m.killServer(0)
            // Its changes wait for a primary; meanwhile the mount lives and reads go on from a backup.
            try await Task.sleep(for: .seconds(1))
            #expect(m.isMounted && m.mount?.isRunning == true)
            #expect(try Posix.read(m.path("kept0")).get() == kept[0])

            let promoted = m.promoteBackup()
            #expect(promoted.index != nil, "promote: \(promoted.output)")
            let status = await copy.wait(timeout: .seconds(60))
            print("cp -r with the primary killed, then a backup promoted: status \(status.map(String.init) ?? "hung"), \(ContinuousClock.now - killed) after the kill: \(copy.output.prefix(300))")
            #expect(status != nil, "cp must not hang after the primary dies")
            if let status, status != 0 {
                // Only a change in flight when the primary died fails (its outcome is unknown); the rest waited.
                #expect(copy.output.contains("Input/output error") && !copy.output.contains("Read-only file system"),
                        "cp fails loudly with EIO: \(copy.output)")
            }
            #expect(m.isMounted && m.mount?.isRunning == true)
            #expect(Posix.write(m.path("after"), Array("after".utf8)) == 0, "writes through the same mount succeed after the promotion")
            for (index, bytes) in kept.enumerated() {
                #expect(try Posix.read(m.path("kept\(index)")).get() == bytes, "kept\(index) survives")
            }
            // What cp wrote is whole or (its commit refused) empty, never half.
            for name in FileManager.default.enumerator(atPath: m.path("copy"))?.allObjects as? [String] ?? [] {
                guard case .success(let copied) = Posix.read(m.path("copy/\(name)")), !copied.isEmpty else { continue }
                #expect(copied == (try Posix.read("\(source)/\(name)").get()), "copy/\(name)")
            }
            #expect(m.isMounted && m.mount?.isRunning == true)
        }
    }
}
