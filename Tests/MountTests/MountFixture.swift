import Foundation
import NetStoreTestSupport
import Synchronization
import Testing

/// A real netstore-server (or a primary and two backups) and a real
/// netstore-mount of its admin account on a temporary mount point. Fails
/// loudly when this machine cannot mount FUSE.
final class MountFixture: @unchecked Sendable {
    static let password = "admin-secret-pw"

    let root: URL
    let mountpoint: String
    let passwordFile: String
    /// Extra `-o` options for the mount (e.g. allow_other).
    let mountOptions: [String]
    private(set) var port = 0
    private var server: Process?
    /// With `cluster`: a primary (server 0) and two backups.
    var cluster: Cluster?
    private(set) var mount: Process?
    let serverLog = LogBuffer()
    private(set) var mountLog = LogBuffer()

    /// `cluster`: a primary and two backups instead of one server.
    init(cluster: Bool = false, mountOptions: [String] = []) async throws {
        try Self.requireFUSE()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("mount-test-\(UUID().uuidString.prefix(8))")
        mountpoint = root.appendingPathComponent("mnt").path
        passwordFile = root.appendingPathComponent("admin-password").path
        for dir in ["mnt", "config", "cache"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        try Self.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        self.mountOptions = mountOptions
        do {
            if cluster {
                try await startCluster()
            } else {
                try await startServer()
            }
            try await startMount()
        } catch {
            await close()
            throw error
        }
    }

    /// Runs `body` on a fresh server and mount, and always unmounts and stops them afterwards.
    static func with(
        cluster: Bool = false, mountOptions: [String] = [], _ body: (MountFixture) async throws -> Void
    ) async throws {
        let fixture = try await MountFixture(cluster: cluster, mountOptions: mountOptions)
        do {
            try await body(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    /// /dev/fuse and fusermount3 must be there: a mount test that cannot mount fails.
    static func requireFUSE() throws {
        guard FileManager.default.fileExists(atPath: "/dev/fuse") else {
            throw TestFailure("MOUNT TESTS CANNOT RUN: /dev/fuse is missing (load the fuse module or run in a container with --device /dev/fuse)")
        }
        guard ["/usr/bin/fusermount3", "/bin/fusermount3"].contains(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestFailure("MOUNT TESTS CANNOT RUN: fusermount3 is missing (apt-get install fuse3, or run Scripts/install-deps)")
        }
    }

    /// Every server the mount knows, primary first.
    var serverAddress: String {
        cluster?.serverList ?? "127.0.0.1:\(port)"
    }

    private func startServer() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.path("netstore-server"))
        process.arguments = ["--listen", "127.0.0.1:0", "--data", root.appendingPathComponent("data").path,
                             "--admin-password-file", passwordFile]
        try serverLog.launch(process)
        server = process
        let regex = /listening on 127\.0\.0\.1:(\d+)/
        try await waitFor("netstore-server to listen", log: serverLog) {
            if let match = self.serverLog.value.firstMatch(of: regex) { self.port = Int(match.1)! }
            return self.port > 0 || !process.isRunning
        }
        guard process.isRunning else { throw TestFailure("netstore-server exited:\n\(serverLog.value)") }
    }

    /// The environment the mount runs in: no saved session, its own cache.
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = root.appendingPathComponent("config").path
        env["XDG_CACHE_HOME"] = root.appendingPathComponent("cache").path
        env.removeValue(forKey: "NETSTORE_SERVERS")
        return env
    }

    /// Starts netstore-mount in the foreground and waits until the kernel lists the mount.
    func startMount() async throws {
        mountLog = LogBuffer()
        mount = try await launchMount(at: mountpoint, options: mountOptions, environment: environment, log: mountLog)
    }

    /// netstore-mount of the admin's files on `mountpoint`, in the foreground,
    /// once the kernel lists the mount; fails with its log if it does not mount.
    func launchMount(at mountpoint: String, options: [String], environment: [String: String], log: LogBuffer) async throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.path("netstore-mount"))
        process.arguments = [mountpoint, "-f", "--server", serverAddress, "--user", "admin",
                             "--password-file", passwordFile, "--log-level", "info"]
            + options.flatMap { ["-o", $0] }
        process.environment = environment
        try log.launch(process)
        do {
            try await waitFor("the mount on \(mountpoint) to appear", log: log) { Self.isMounted(mountpoint) || !process.isRunning }
            guard process.isRunning, Self.isMounted(mountpoint) else {
                throw TestFailure("MOUNT FAILED: netstore-mount did not mount \(mountpoint):\n\(log.value)")
            }
        } catch {
            // Not left behind, mounted or not, when the test goes on to fail.
            await unmount(mountpoint, process: process)
            throw error
        }
        return process
    }

    var isMounted: Bool { Self.isMounted(mountpoint) }

    static func isMounted(_ mountpoint: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        // mountinfo writes a space, tab, newline or backslash in a path as \ooo.
        let escaped = mountpoint.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
            .replacingOccurrences(of: "\t", with: "\\011").replacingOccurrences(of: "\n", with: "\\012")
        return table.split(separator: "\n").contains { $0.split(separator: " ").count > 4 && $0.split(separator: " ")[4] == escaped }
    }

    func path(_ relative: String) -> String { "\(mountpoint)/\(relative)" }

    /// SIGKILL the mount process: nothing is flushed.
    func killMount() {
        guard let mount, mount.isRunning else { return }
        kill(mount.processIdentifier, SIGKILL)
        mount.waitUntilExit()
    }

    /// fusermount3 -u, then a lazy unmount if that fails; waits for the mount process to end.
    func unmount() async {
        await unmount(mountpoint, process: mount)
    }

    /// Unmounts `mountpoint` and waits (30 s, then SIGKILL) for its netstore-mount `process` to end.
    func unmount(_ mountpoint: String, process: Process?) async {
        if Self.isMounted(mountpoint), run("fusermount3", ["-u", mountpoint]) != 0 {
            _ = run("fusermount3", ["-uz", mountpoint])
        }
        if let process {
            let deadline = ContinuousClock.now + .seconds(30)
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    func close() async {
        await unmount()
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        cluster?.stop()
        // A background mount may still be finishing its cache writes for a moment.
        for _ in 0..<10 {
            if (try? FileManager.default.removeItem(at: root)) != nil { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Runs a program to completion; returns its exit status. posix_spawn and
    /// waitpid, not Process: a child that leaves a daemon behind must not
    /// keep the wait from ending.
    @discardableResult
    func run(_ program: String, _ arguments: [String], output: LogBuffer? = nil, environment: [String: String]? = nil) -> Int32 {
        let log = root.appendingPathComponent("run-\(UUID().uuidString.prefix(8)).log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, program, &actions, nil, argv, env) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        if let output, let text = try? String(contentsOfFile: log, encoding: .utf8) { output.append(Data(text.utf8)) }
        unlink(log)
        // WIFEXITED / WEXITSTATUS
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

func waitFor(_ what: String, log: LogBuffer, timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    if !condition() { throw TestFailure("timed out waiting for \(what):\n\(log.value)") }
}
