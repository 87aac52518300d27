import Foundation

/// A primary and two backups as real `netstore-server` processes on
/// 127.0.0.1, on ports chosen up front (each server names the others).
public final class Cluster: @unchecked Sendable {
    public let dir: TemporaryDirectory
    public let ports: [Int]
    public var servers: [ServerProcess] = []
    public let keyFile: URL
    /// Given to every server, after the cluster's own arguments.
    public let extraArguments: [String]

    public var addresses: [String] { ports.map { "127.0.0.1:\($0)" } }
    public var serverList: String { addresses.joined(separator: ",") }
    public var primary: ServerProcess { servers[0] }

    public init(extraArguments: [String] = [], label: String = "netstore-cluster") async throws {
        self.extraArguments = extraArguments
        dir = try TemporaryDirectory(label)
        ports = try freePorts(3)
        keyFile = dir.path("cluster.key")
        try "a-test-cluster-key-0123456789".write(to: keyFile, atomically: true, encoding: .utf8)
        do {
            // Backups first: the primary waits for a majority before it listens.
            var started: [Int: ServerProcess] = [:]
            for index in [1, 2, 0] {
                started[index] = try await ServerProcess(
                    directory: dir, name: "server\(index)", port: ports[index], extraArguments: arguments(index))
            }
            servers = (0..<3).map { started[$0]! }
        } catch {
            servers.forEach { $0.kill9() }
            dir.remove()
            throw error
        }
    }

    /// Server `index`'s arguments: its role (server 0 starts as the primary), the key, the other replicas.
    public func arguments(_ index: Int, role: String? = nil) -> [String] {
        var arguments = ["--role", role ?? (index == 0 ? "primary" : "backup"), "--cluster-key-file", keyFile.path]
        for (other, port) in ports.enumerated() where other != index {
            arguments += ["--replica", "127.0.0.1:\(port)"]
        }
        return arguments + extraArguments
    }

    /// Starts server `index` again on its port and data, in `role` (e.g. an old primary as a backup).
    public func restart(_ index: Int, role: String) async throws {
        servers[index].kill9()
        servers[index] = try await ServerProcess(
            directory: dir, name: "server\(index)", port: ports[index], extraArguments: arguments(index, role: role))
    }

    /// SIGKILL every server.
    public func stop() {
        servers.forEach { $0.kill9() }
    }

    deinit {
        stop()
        dir.remove()
    }
}
