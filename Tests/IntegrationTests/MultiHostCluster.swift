import Foundation
import NetStoreTestSupport

/// Three servers, each on a host of its own (a network namespace with its own
/// address), and a fourth host for the clients, on one virtual Ethernet segment.
/// The primary starts on host 0.
///
/// Every connection runs over TLS, with certificates `netstore cert init` made
/// for the three hosts' addresses: the servers replicate over mutual TLS and the
/// clients verify the servers against the cluster's CA (`NETSTORE_TLS_CA`).
/// Every server's command line is built by `serverArguments`.
final class MultiHostCluster: @unchecked Sendable {
    /// Every server listens on the same port: each host has its own.
    static let port = 7070
    static let clientHost = 3

    let network: VirtualNetwork
    let dir: TemporaryDirectory
    let keyFile: URL
    let adminPasswordFile: URL
    /// Appended to every server's command line (e.g. `--tls-cert`, `--tls-key`, `--tls-ca`).
    let extraServerArguments: [String]
    /// Set for every client command (`NETSTORE_TLS_CA`).
    let clientEnvironment: [String: String]
    /// Where `netstore cert init` wrote the CA and each server's certificate and key.
    let certificates: URL
    private(set) var servers: [NamespacedServer] = []

    var addresses: [String] { servers.map(\.address) }
    var serverList: String { addresses.joined(separator: ",") }

    init(extraServerArguments: [String] = []) async throws {
        self.extraServerArguments = extraServerArguments
        network = try VirtualNetwork(hosts: 4)
        dir = try TemporaryDirectory("netstore-multihost")
        certificates = dir.path("tls")
        let hostAddresses = network.hosts.map(\.address)
        let hosts = (0..<3).flatMap { ["--host", "server\($0)=\(hostAddresses[$0])"] }
        let made = try runCommand(Binaries.cli, ["cert", "init", certificates.path] + hosts)
        guard made.succeeded else { throw TestFailure("netstore cert init failed: \(made.stderr)") }
        clientEnvironment = ["NETSTORE_TLS_CA": certificates.appendingPathComponent("ca.pem").path]
        keyFile = dir.path("cluster.key")
        try "a-test-cluster-key-0123456789".write(to: keyFile, atomically: true, encoding: .utf8)
        adminPasswordFile = dir.path("admin-password.txt")
        try ServerProcess.adminPassword.write(to: adminPasswordFile, atomically: true, encoding: .utf8)
        servers = (0..<3).map { index in
            let host = network.hosts[index]
            return NamespacedServer(namespace: host.namespace, address: "\(host.address):\(Self.port)")
        }
        // Backups first: the primary waits for a majority before it listens.
        for index in [1, 2, 0] {
            try await start(index, role: index == 0 ? "primary" : "backup")
        }
    }

    /// The one place a server's command line is made.
    func serverArguments(_ index: Int, role: String) -> [String] {
        var arguments = [
            "--listen", addresses[index],
            "--data", dir.path("server\(index)").path,
            "--admin-password-file", adminPasswordFile.path,
            "--role", role,
            "--cluster-key-file", keyFile.path,
        ]
        for (other, address) in addresses.enumerated() where other != index {
            arguments += ["--replica", address]
        }
        arguments += [
            "--tls-cert", certificates.appendingPathComponent("server\(index).pem").path,
            "--tls-key", certificates.appendingPathComponent("server\(index)-key.pem").path,
            "--tls-ca", certificates.appendingPathComponent("ca.pem").path,
        ]
        return arguments + extraServerArguments
    }

    func start(_ index: Int, role: String) async throws {
        try await servers[index].start(arguments: serverArguments(index, role: role))
    }

    /// A `netstore` command line on `host` (the client host unless told), with a
    /// config directory of its own unless one is shared; `server` nil means the whole list.
    func cli(on host: Int = clientHost, server: String? = nil, configDirectory: URL? = nil) -> NamespacedCLI {
        let config = configDirectory ?? dir.path("config-\(UUID().uuidString.prefix(6))")
        try? FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        return NamespacedCLI(
            namespace: network.hosts[host].namespace, server: server ?? serverList, configDirectory: config,
            environment: clientEnvironment)
    }

    /// Whether every server reports the same applied index (asked through `admin`).
    func caughtUp(_ admin: NamespacedCLI) throws -> Bool {
        let applied = try admin.run("status").stdout.matches(of: /applied (\d+)/).map { String($0.1) }
        return applied.count == 3 && Set(applied).count == 1
    }

    deinit {
        servers.forEach { $0.kill9() }
        network.remove()
        dir.remove()
    }
}

/// The real `netstore` command line run inside a host's namespace, with its own
/// config directory and the given servers.
struct NamespacedCLI {
    let namespace: NetworkNamespace
    let server: String
    let configDirectory: URL
    let environment: [String: String]

    /// The same session and config, other servers.
    func with(server: String) -> NamespacedCLI {
        NamespacedCLI(namespace: namespace, server: server, configDirectory: configDirectory, environment: environment)
    }

    private func command(_ arguments: [String]) -> (URL, [String], [String: String?]) {
        let (executable, full) = namespace.command(Binaries.cli, arguments + ["--server", server])
        var env: [String: String?] = ["XDG_CONFIG_HOME": configDirectory.path, "NETSTORE_SERVERS": nil]
        for (key, value) in environment { env[key] = value }
        return (executable, full, env)
    }

    @discardableResult
    func run(_ arguments: String...) throws -> CommandResult {
        let (executable, full, env) = command(arguments)
        return try runCommand(executable, full, environment: env)
    }

    /// Runs on a thread of its own, for a command that is expected to take a while.
    func runAsync(_ arguments: String...) async throws -> CommandResult {
        let (executable, full, env) = command(arguments)
        return try await runCommandAsync(executable, full, environment: env)
    }

    func login(_ user: String, password: String, in dir: TemporaryDirectory) throws {
        let file = dir.path("pw-\(user)-\(UUID().uuidString.prefix(6))")
        try password.write(to: file, atomically: true, encoding: .utf8)
        let result = try run("login", user, "--password-file", file.path)
        guard result.succeeded else { throw TestFailure("login \(user) on \(server) failed (\(result.status)): \(result.stderr)") }
    }
}
