import Foundation
import NetStoreTestSupport

/// A primary and two backups for the mount, on ports chosen up front (each
/// server names the others), started as real processes.
extension MountFixture {
    static let clusterKey = "a-mount-test-cluster-key-0123456789"

    func startCluster() async throws {
        let keyFile = root.appendingPathComponent("cluster.key").path
        try Self.clusterKey.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let chosen = try freePorts(3)
        setPorts(chosen)
        // Backups first: the primary waits for a majority before it listens.
        for index in [1, 2, 0] {
            try await startClusterServer(index, role: index == 0 ? "primary" : "backup")
        }
    }

    /// Starts (or restarts) server `index` of the cluster in `role`.
    func startClusterServer(_ index: Int, role: String) async throws {
        var arguments = ["--listen", "127.0.0.1:\(ports[index])",
                         "--data", root.appendingPathComponent("data\(index)").path,
                         "--admin-password-file", passwordFile,
                         "--role", role, "--cluster-key-file", root.appendingPathComponent("cluster.key").path]
        for (other, port) in ports.enumerated() where other != index {
            arguments += ["--replica", "127.0.0.1:\(port)"]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.path("netstore-server"))
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let log = LogBuffer()
        log.attach(pipe)
        try process.run()
        setServer(index, process, log: log)
        try await waitFor("netstore-server \(index) to listen", log: log) {
            log.value.contains("listening on 127.0.0.1:\(self.ports[index])") || !process.isRunning
        }
        guard process.isRunning else { throw TestFailure("netstore-server \(index) exited:\n\(log.value)") }
    }

    /// SIGKILL one server of the cluster.
    func killServer(_ index: Int) {
        guard index < servers.count, let process = servers[index], process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// `netstore login` as the admin with a config directory of its own; do it
    /// while the primary lives (a login is a change only the primary makes).
    func loginCLI() -> (status: Int32, output: String) {
        let output = LogBuffer()
        let status = run(Binaries.path("netstore"), ["login", "admin", "--password-file", passwordFile, "--server", serverAddress],
                         output: output, environment: cliEnvironment)
        return (status, output.value)
    }

    /// `netstore promote` of server `index`, with the session `loginCLI()` saved.
    func promote(_ index: Int) -> (status: Int32, output: String) {
        let output = LogBuffer()
        let status = run(Binaries.path("netstore"), ["promote", "127.0.0.1:\(ports[index])", "--server", serverAddress],
                         output: output, environment: cliEnvironment)
        return (status, output.value)
    }

    var cliEnvironment: [String: String] {
        var env = environment
        env["XDG_CONFIG_HOME"] = root.appendingPathComponent("config-cli").path
        return env
    }
}
