import NetStoreTestSupport
import Foundation
import Logging
import NetStoreClient
@testable import NetStoreWeb

/// A primary and two backups as real processes on 127.0.0.1 (the same
/// arrangement as the integration tests' cluster).
final class WebCluster: @unchecked Sendable {
    let dir: TemporaryDirectory
    let ports: [Int]
    private(set) var servers: [ServerProcess] = []

    init() async throws {
        dir = try TemporaryDirectory("netstore-web-cluster")
        ports = try freePorts(3)
        let keyFile = dir.path("cluster.key")
        try "a-test-cluster-key-0123456789".write(to: keyFile, atomically: true, encoding: .utf8)
        // Backups first: the primary waits for a majority before it listens.
        var started: [Int: ServerProcess] = [:]
        for index in [1, 2, 0] {
            var arguments = ["--role", index == 0 ? "primary" : "backup", "--cluster-key-file", keyFile.path]
            for (other, port) in ports.enumerated() where other != index {
                arguments += ["--replica", "127.0.0.1:\(port)"]
            }
            started[index] = try await ServerProcess(directory: dir, name: "server\(index)", port: ports[index], extraArguments: arguments)
        }
        servers = (0..<3).map { started[$0]! }
    }

    var addresses: [ServerAddress] { ports.map { ServerAddress(host: "127.0.0.1", port: $0) } }

    func configuration(servers: [ServerAddress]) -> WebConfiguration {
        var logger = Logger(label: "netstore.web.test")
        logger.logLevel = .warning
        return WebConfiguration(servers: servers, logger: logger)
    }

    deinit {
        servers.forEach { $0.kill9() }
        dir.remove()
    }
}
