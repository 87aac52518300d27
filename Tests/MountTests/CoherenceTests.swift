import Foundation
import NetStoreTestSupport
import Testing

/// Two mounts of one account on a primary and two backups: what one changes,
/// the other sees within a round trip or so, though each keeps attributes
/// and names for 30 s (the server tells the other mount, which drops them).
@Suite("Coherence between mounts through change notices")
struct CoherenceTests {
    /// Far below the 30 s the kernel and the mount keep attributes and names.
    static let deadline = Duration.seconds(5)

    @Test("a write, an append, a create, a rename and an unlink through one mount show through the other at once")
    func twoMounts() async throws {
        try await MountFixture.with(cluster: true) { a in
            let b = try await SecondMount(of: a)
            do {
                try await exercise(a, b)
            } catch {
                await b.unmount()
                throw error
            }
            await b.unmount()
        }
    }

    private func exercise(_ a: MountFixture, _ b: SecondMount) async throws {
            try await waitFor("both mounts to watch for changes", log: b.log) {
                a.mountLog.value.contains("watching for changes") && b.log.value.contains("watching for changes")
            }

            // B caches the file's attributes and content, then A changes it.
            try "first\n".write(toFile: a.path("f.txt"), atomically: false, encoding: .utf8)
            try await eventually("B sees f.txt", log: b.log) { Self.size(b.path("f.txt")) == 6 }
            #expect(try String(contentsOfFile: b.path("f.txt"), encoding: .utf8) == "first\n")
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: a.path("f.txt")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("second line\n".utf8))
            try handle.close()
            try await eventually("B sees the append's size", log: b.log) { Self.size(b.path("f.txt")) == 18 }
            #expect(try String(contentsOfFile: b.path("f.txt"), encoding: .utf8) == "first\nsecond line\n")

            // Names: B lists the directory (caching its entries), then A creates, renames, removes.
            try FileManager.default.createDirectory(atPath: a.path("d"), withIntermediateDirectories: false)
            try await eventually("B lists d", log: b.log) { Self.names(b.path("d")) == [] }
            #expect(!FileManager.default.fileExists(atPath: b.path("d/new")), "B caches the absence of d/new")
            try "x".write(toFile: a.path("d/new"), atomically: false, encoding: .utf8)
            try await eventually("d/new appears in B", log: b.log) {
                Self.names(b.path("d")) == ["new"] && FileManager.default.fileExists(atPath: b.path("d/new"))
            }
            try FileManager.default.moveItem(atPath: a.path("d/new"), toPath: a.path("d/renamed"))
            try await eventually("the rename shows in B", log: b.log) {
                Self.names(b.path("d")) == ["renamed"] && !FileManager.default.fileExists(atPath: b.path("d/new"))
                    && Self.size(b.path("d/renamed")) == 1
            }
            try FileManager.default.removeItem(atPath: a.path("d/renamed"))
            try await eventually("the unlink shows in B", log: b.log) {
                Self.names(b.path("d")) == [] && !FileManager.default.fileExists(atPath: b.path("d/renamed"))
            }

            // And the other way round: B writes, A sees.
            try "from b".write(toFile: b.path("f.txt"), atomically: false, encoding: .utf8)
            try await eventually("A sees B's write", log: a.mountLog) { Self.size(a.path("f.txt")) == 6 }
            #expect(try String(contentsOfFile: a.path("f.txt"), encoding: .utf8) == "from b")
    }

    @Test("after the primary dies and a backup is promoted, the watch is set up on the new primary and changes show at once again")
    func failover() async throws {
        try await MountFixture.with(cluster: true) { a in
            #expect(a.loginCLI().status == 0)
            let b = try await SecondMount(of: a)
            do {
                try await failover(a, b)
            } catch {
                await b.unmount()
                throw error
            }
            await b.unmount()
        }
    }

    private func failover(_ a: MountFixture, _ b: SecondMount) async throws {
        try await waitFor("B to watch for changes", log: b.log) { b.log.value.contains("watching for changes") }
        try "one".write(toFile: a.path("f.txt"), atomically: false, encoding: .utf8)
        try await eventually("B sees f.txt", log: b.log) { Self.size(b.path("f.txt")) == 3 }
        a.killServer(0)
        try await waitFor("B's watch to end", log: b.log) { b.log.value.contains("the watch for changes ended") }
        let promoted = a.promoteBackup()
        let newPrimary = try #require(promoted.index, "promote: \(promoted.output)")
        let watching = b.log.value.components(separatedBy: "watching for changes").count - 1
        try await waitFor("B to watch on the new primary", log: b.log) {
            b.log.value.components(separatedBy: "watching for changes").count - 1 > watching
                || b.log.value.contains("watching for changes server=\(a.cluster!.addresses[newPrimary])")
        }
        // Cached again, now for the long timeout, before A changes it.
        #expect(Self.size(b.path("f.txt")) == 3)
        try "three".write(toFile: a.path("f.txt"), atomically: false, encoding: .utf8)
        try await eventually("B sees the write made after the failover", log: b.log) { Self.size(b.path("f.txt")) == 5 }
        #expect(try String(contentsOfFile: b.path("f.txt"), encoding: .utf8) == "three")
    }

    @Test("a change made with the command line shows in a mount at once")
    func commandLine() async throws {
        try await MountFixture.with(cluster: true) { m in
            #expect(m.loginCLI().status == 0)
            try await waitFor("the mount to watch for changes", log: m.mountLog) { m.mountLog.value.contains("watching for changes") }
            #expect((Self.names(m.mountpoint) ?? []).filter { !$0.hasPrefix(".") } == [])
            let output = LogBuffer()
            #expect(m.run(Binaries.path("netstore"), ["mkdir", "/made-by-cli", "--server", m.serverAddress],
                          output: output, environment: m.cliEnvironment) == 0, "netstore mkdir: \(output.value)")
            try await eventually("the CLI's directory in the mount", log: m.mountLog) {
                Self.names(m.mountpoint)?.contains("made-by-cli") == true
            }
        }
    }

    /// Polls with a deadline far below the cache timeout.
    private func eventually(_ what: String, log: LogBuffer, _ condition: () -> Bool) async throws {
        try await waitFor(what, log: log, timeout: Self.deadline, condition)
    }

    static func size(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    static func names(_ path: String) -> [String]? {
        (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted()
    }
}
