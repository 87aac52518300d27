import Foundation
import NetStoreTestSupport
import Testing

/// A mount killed with kill -9 leaves the files it parked (open, unlinked)
/// on the server; the next mount sweeps them once their lease runs out.
@Suite("Sweeping what a killed mount parked", .serialized)
struct SweepMountTests {
    /// `netstore ls` of the hidden directory of parked files: one line per mount that parked files.
    static func parked(_ m: MountFixture) -> [String] {
        let output = LogBuffer()
        let status = m.run(Binaries.path("netstore"), ["ls", "/.netstore-unlinked", "--server", m.serverAddress],
                           output: output, environment: m.cliEnvironment)
        guard status == 0 else { return ["error: \(output.value)"] }
        return output.value.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    @Test("kill -9 of a mount holding an unlinked file open: a new mount sweeps its parked file after the lease")
    func killedMountSwept() async throws {
        try await MountFixture.with(mountOptions: ["unlinked_lease=2"]) { m in
            #expect(m.loginCLI().status == 0)
            #expect(Posix.write(m.path("f"), Array("parked".utf8)) == 0)
            let ready = m.root.appendingPathComponent("ready").path
            let holder = try ChildProcess(
                "sh", ["-c", "exec 3<\(m.path("f")); rm \(m.path("f")) && touch \(ready); exec sleep 300"],
                logPath: m.root.appendingPathComponent("holder.log").path)
            try await waitFor("the file to be open and unlinked", log: m.mountLog) {
                FileManager.default.fileExists(atPath: ready) || holder.poll() != nil
            }
            let before = Self.parked(m)
            #expect(before.count == 1, "one mount's directory: \(before)")

            m.killMount()
            kill(holder.pid, SIGKILL)
            _ = await holder.wait(timeout: .seconds(10))
            m.run("fusermount3", ["-uz", m.mountpoint])
            try await m.startMount()
            var now = before
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, now == before {
                try await Task.sleep(for: .milliseconds(200))
                now = Self.parked(m)
            }
            #expect(now.isEmpty, "the killed mount's parked file is swept: \(now)")
            #expect(try Posix.list(m.mountpoint).get() == [])
        }
    }
}
