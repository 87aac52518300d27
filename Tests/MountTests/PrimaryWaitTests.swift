import Foundation
import NetStoreTestSupport
import Testing

/// With the primary dead, a change through the mount waits for a primary
/// (`-o primary_timeout`), then fails with EIO; the mount lives on.
@Suite("Changes waiting for a primary", .serialized)
struct PrimaryWaitTests {
    @Test("kill -9 of the primary: a write waits, a backup is promoted, the write completes there")
    func promotedInTime() async throws {
        try await MountFixture.with(cluster: true, mountOptions: ["primary_timeout=30"]) { m in
            #expect(m.loginCLI().status == 0)
            #expect(Posix.write(m.path("before"), Array("before".utf8)) == 0)
            // The waiting change is made in another directory: the kernel locks its directory meanwhile.
            #expect(mkdir(m.path("d"), 0o755) == 0)
            // The backups learn that it is committed (and apply it) with the primary's next heartbeat.
            try await Task.sleep(for: .seconds(1))
            m.killServer(0)
            let writer = try ChildProcess("sh", ["-c", "echo waited > \(m.path("d/file"))"], logPath: m.root.appendingPathComponent("w.log").path)
            // Still waiting while reads and listings go on from a backup.
            try await Task.sleep(for: .seconds(2))
            #expect(writer.poll() == nil, "the write waits for a primary: \(writer.output)")
            #expect(try Posix.read(m.path("before")).get() == Array("before".utf8))
            #expect(try Posix.list(m.mountpoint).get() == ["before", "d"])

            let promoted = m.promoteBackup()
            #expect(promoted.index != nil, "promote: \(promoted.output)")
            let status = await writer.wait(timeout: .seconds(30))
            #expect(status == 0, "the write completes on the new primary: \(writer.output)")
            #expect(try Posix.read(m.path("d/file")).get() == Array("waited\n".utf8))
            #expect(m.isMounted && m.mount?.isRunning == true)
        }
    }

    @Test("kill -9 of the primary and nobody promoted: a write fails with EIO (not EROFS) after the timeout; the mount lives")
    func timesOut() async throws {
        try await MountFixture.with(cluster: true, mountOptions: ["primary_timeout=3"]) { m in
            #expect(Posix.write(m.path("before"), Array("before".utf8)) == 0)
            // The waiting change is made in another directory: the kernel locks its directory meanwhile.
            #expect(mkdir(m.path("d"), 0o755) == 0)
            // The backups learn that it is committed (and apply it) with the primary's next heartbeat.
            try await Task.sleep(for: .seconds(1))
            m.killServer(0)
            let started = ContinuousClock.now
            let writer = try ChildProcess("sh", ["-c", "echo x > \(m.path("d/file"))"], logPath: m.root.appendingPathComponent("w.log").path)
            let status = await writer.wait(timeout: .seconds(30))
            let elapsed = ContinuousClock.now - started
            #expect(status != nil && status != 0)
            #expect(writer.output.contains("Input/output error"), "\(writer.output)")
            #expect(elapsed >= .milliseconds(2500) && elapsed < .seconds(15), "failed after \(elapsed)")
            #expect(m.isMounted && m.mount?.isRunning == true)
            #expect(try Posix.read(m.path("before")).get() == Array("before".utf8))
            #expect(try Posix.list(m.mountpoint).get() == ["before", "d"])
            #expect(try Posix.list(m.path("d")).get() == [])
        }
    }
}
