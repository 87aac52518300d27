import Foundation
import NetStoreTestSupport

/// Another netstore-mount of the same account on the fixture's servers, with
/// a mount point and a cache of its own: the "other machine".
final class SecondMount: @unchecked Sendable {
    let mountpoint: String
    let log = LogBuffer()
    private let process = Process()
    private let fixture: MountFixture

    init(of fixture: MountFixture, options: [String] = []) async throws {
        self.fixture = fixture
        let base = fixture.root.appendingPathComponent("second")
        mountpoint = base.appendingPathComponent("mnt").path
        for dir in ["mnt", "config", "cache"] {
            try FileManager.default.createDirectory(at: base.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        var env = fixture.environment
        env["XDG_CONFIG_HOME"] = base.appendingPathComponent("config").path
        env["XDG_CACHE_HOME"] = base.appendingPathComponent("cache").path
        process.executableURL = URL(fileURLWithPath: Binaries.path("netstore-mount"))
        process.arguments = [mountpoint, "-f", "--server", fixture.serverAddress, "--user", "admin",
                             "--password-file", fixture.passwordFile, "--log-level", "info"]
            + options.flatMap { ["-o", $0] }
        process.environment = env
        try log.launch(process)
        try await waitFor("the second mount to appear", log: log) { self.isMounted || !self.process.isRunning }
        guard process.isRunning, isMounted else {
            throw TestFailure("MOUNT FAILED: the second netstore-mount did not mount \(mountpoint):\n\(log.value)")
        }
    }

    var isMounted: Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { $0.split(separator: " ").count > 4 && $0.split(separator: " ")[4] == mountpoint }
    }

    func path(_ relative: String) -> String { "\(mountpoint)/\(relative)" }

    func unmount() async {
        if isMounted, fixture.run("fusermount3", ["-u", mountpoint]) != 0 {
            _ = fixture.run("fusermount3", ["-uz", mountpoint])
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
