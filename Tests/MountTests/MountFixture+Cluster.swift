import Foundation
import NetStoreTestSupport

/// A primary and two backups for the mount (the shared `Cluster`; its admin
/// password is the fixture's).
extension MountFixture {
    func startCluster() async throws {
        precondition(ServerProcess.adminPassword == Self.password, "the cluster's admin password is the mount's")
        cluster = try await Cluster(label: "mount-test-cluster")
    }

    /// SIGKILL one server of the cluster.
    func killServer(_ index: Int) {
        cluster?.servers[index].kill9()
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
        let status = run(Binaries.path("netstore"), ["promote", cluster!.addresses[index], "--server", serverAddress],
                         output: output, environment: cliEnvironment)
        return (status, output.value)
    }

    /// Promotes a backup as an admin would after the primary died: backup 1, or,
    /// when it refuses because backup 2 holds entries it lacks (an acknowledged
    /// change may be on the primary and backup 2 only), backup 2. Returns the
    /// index promoted, or nil with the refusals.
    func promoteBackup() -> (index: Int?, output: String) {
        let first = promote(1)
        if first.status == 0 { return (1, first.output) }
        guard first.output.contains("is \(cluster!.addresses[2])") else { return (nil, first.output) }
        let second = promote(2)
        return (second.status == 0 ? 2 : nil, first.output + second.output)
    }

    var cliEnvironment: [String: String] {
        var env = environment
        env["XDG_CONFIG_HOME"] = root.appendingPathComponent("config-cli").path
        return env
    }
}
