import NetStoreTestSupport
import Foundation
import Testing

/// The cluster's configuration file and the metrics endpoint, with real processes.
@Suite("Configuration file and metrics")
struct ConfigFileTests {
    @Test("three servers start from one configuration file; a client finds them in its own copy")
    func clusterFromConfigFile() async throws {
        let dir = try TemporaryDirectory("netstore-config")
        defer { dir.remove() }
        let ports = try freePorts(3)
        // The client's standard place; the servers are given the same file.
        let configDirectory = dir.path("xdg")
        let netstoreDirectory = configDirectory.appendingPathComponent("netstore")
        try FileManager.default.createDirectory(at: netstoreDirectory, withIntermediateDirectories: true)
        try "a-test-cluster-key-0123456789".write(
            to: netstoreDirectory.appendingPathComponent("cluster.key"), atomically: true, encoding: .utf8)
        try ServerProcess.adminPassword.write(to: dir.path("admin-password"), atomically: true, encoding: .utf8)
        let configFile = netstoreDirectory.appendingPathComponent("config.toml")
        try """
            [defaults]
            cluster-key-file = "cluster.key"   # beside this file
            admin-password-file = "\(dir.path("admin-password").path)"
            log-level = "info"

            [[server]]
            name = "b"
            address = "127.0.0.1:\(ports[1])"
            role = "backup"
            data = "\(dir.path("data-b").path)"

            [[server]]
            name = "a"
            address = "127.0.0.1:\(ports[0])"
            role = "primary"
            data = "\(dir.path("data-a").path)"

            [[server]]
            name = "c"
            address = "127.0.0.1:\(ports[2])"
            role = "backup"
            data = "\(dir.path("data-c").path)"

            """.write(to: configFile, atomically: true, encoding: .utf8)

        let servers = try ["a", "b", "c"].map { try ConfiguredServer(config: configFile, name: $0) }
        defer { servers.forEach { $0.kill() } }
        for (server, port) in zip(servers, ports) {
            try await server.waitUntilListening(on: port)
        }
        for name in ["a", "b", "c"] {
            // The data directories the file names, not the defaults.
            #expect(FileManager.default.fileExists(atPath: dir.path("data-\(name)/metadata.sqlite").path), "data-\(name)")
        }

        // No --server, no session: the client reads the file, primary first.
        let status = try CLI(server: nil, configDirectory: configDirectory).run(["status"])
        #expect(status.status == 0, "status: \(status.stderr)")
        let lines = status.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(status.stdout)")
        #expect(lines.first?.hasPrefix("127.0.0.1:\(ports[0])  primary") == true, "\(status.stdout)")
        #expect(lines.dropFirst().allSatisfy { $0.contains("  backup  ") }, "\(status.stdout)")

        let passwordFile = dir.path("pw")
        try ServerProcess.adminPassword.write(to: passwordFile, atomically: true, encoding: .utf8)
        let login = try CLI(server: nil, configDirectory: configDirectory).run(["login", "admin", "--password-file", passwordFile.path])
        #expect(login.status == 0, "login: \(login.stderr)")
        let session = try String(contentsOf: netstoreDirectory.appendingPathComponent("session"), encoding: .utf8)
        #expect(session.contains("servers=127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1]),127.0.0.1:\(ports[2])"), "\(session)")

        let local = dir.path("local")
        try Data("written through the configured cluster\n".utf8).write(to: local)
        let put = try CLI(server: nil, configDirectory: configDirectory).run(["put", local.path, "/hello"])
        #expect(put.status == 0, "put: \(put.stderr)")
        // A backup applies the change once it hears it committed: read it back there.
        let out = dir.path("out")
        let written = try Data(contentsOf: local)
        let replicated = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            let get = try CLI(server: "127.0.0.1:\(ports[2])", configDirectory: configDirectory).run(["get", "/hello", out.path])
            return get.status == 0 && (try? Data(contentsOf: out)) == written
        }
        #expect(replicated, "the file did not reach server c")

        for server in servers {
            #expect(server.terminate() == 0, "\(server.name) did not stop cleanly:\n\(server.output)")
        }
    }

    @Test("a bad configuration file stops the server with status 1, naming the file and line")
    func badConfigFile() async throws {
        let dir = try TemporaryDirectory("netstore-config")
        defer { dir.remove() }
        let configFile = dir.path("bad.toml")
        try """
            [[server]]
            name = "a"
            address = "127.0.0.1:7070"
            role = "leader"
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let server = try ConfiguredServer(config: configFile, name: "a")
        // Its message may reach the pipe a moment after it exits.
        let exited = try await waitUntil(timeout: .seconds(10)) { !server.isRunning && server.output.contains("role") }
        #expect(exited, "\(server.output)")
        #expect(server.terminate() == 1)
        #expect(server.output.contains("\(configFile.path):4: server 'a': role must be"), "\(server.output)")

        // TLS half configured: refused, not run unencrypted.
        try """
            [[server]]
            name = "a"
            address = "127.0.0.1:7070"
            role = "primary"
            tls-cert = "a.pem"
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let tls = try ConfiguredServer(config: configFile, name: "a")
        let refused = try await waitUntil(timeout: .seconds(10)) { !tls.isRunning && tls.output.contains("TLS") }
        #expect(refused, "\(tls.output)")
        #expect(tls.terminate() == 1)
        #expect(tls.output.contains("\(configFile.path):5: server 'a': TLS needs tls-cert, tls-key and tls-ca"), "\(tls.output)")
    }

    @Test("GET /metrics counts requests by opcode and result, bytes, and the store")
    func metrics() async throws {
        let dir = try TemporaryDirectory("netstore-metrics")
        defer { dir.remove() }
        let server = try await ServerProcess(directory: dir, extraArguments: ["--metrics-listen", "127.0.0.1:0"])
        defer { server.kill9() }
        var metricsPort: Int?
        let announced = try await waitUntil(timeout: .seconds(10)) {
            metricsPort = server.output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/).flatMap { Int($0.1) }
            return metricsPort != nil
        }
        let port = try #require(metricsPort, "no metrics address in the log (\(announced)):\n\(server.output)")

        let configDirectory = dir.path("xdg")
        let passwordFile = dir.path("pw")
        try ServerProcess.adminPassword.write(to: passwordFile, atomically: true, encoding: .utf8)
        let login = try CLI(server: server.address, configDirectory: configDirectory)
            .run(["login", "admin", "--password-file", passwordFile.path])
        #expect(login.status == 0, "login: \(login.stderr)")
        try "wrong-password".write(to: passwordFile, atomically: true, encoding: .utf8)
        let refused = try CLI(server: server.address, configDirectory: dir.path("xdg-2"))
            .run(["login", "admin", "--password-file", passwordFile.path])
        #expect(refused.status != 0)
        let local = dir.path("local")
        try Data(repeating: 7, count: 100_000).write(to: local)
        let put = try CLI(server: nil, configDirectory: configDirectory).run(["put", local.path, "/seven"])
        #expect(put.status == 0, "put: \(put.stderr)")

        let response = try httpGet(port: port, path: "/metrics")
        #expect(response.hasPrefix("HTTP/1.1 200 OK"), "\(response.prefix(200))")
        let values = Self.samples(response)
        #expect(values[#"netstore_requests_total{opcode="login",result="ok"}"#] == 1, "\(response)")
        #expect(values[#"netstore_requests_total{opcode="login",result="bad-credentials"}"#] == 1, "\(response)")
        #expect((values[#"netstore_requests_total{opcode="commit",result="ok"}"#] ?? 0) >= 1, "\(response)")
        #expect((values[#"netstore_request_duration_seconds_count{opcode="commit"}"#] ?? 0) >= 1, "\(response)")
        #expect((values["netstore_received_bytes_total"] ?? 0) > 100_000, "\(response)")
        #expect((values["netstore_sent_bytes_total"] ?? 0) > 0, "\(response)")
        #expect(values["netstore_blocks"] == 1, "\(response)")
        #expect(values["netstore_block_bytes"] == 100_000, "\(response)")
        #expect(values["netstore_primary"] == 1, "\(response)")
        #expect((values["netstore_replication_applied_index"] ?? 0) >= 1, "\(response)")

        #expect(try httpGet(port: port, path: "/other").hasPrefix("HTTP/1.1 404"))
        #expect(server.terminate() == 0, "\(server.output)")
    }

    /// "name{labels} value" lines of a Prometheus text exposition.
    static func samples(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }
}

/// `netstore-server --config FILE --name NAME`, and nothing else on its command line.
final class ConfiguredServer: @unchecked Sendable {
    let name: String
    private let process = Process()
    private let log = LogBuffer()

    init(config: URL, name: String) throws {
        self.name = name
        process.executableURL = Binaries.server
        process.arguments = ["--config", config.path, "--name", name]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let log = self.log
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            log.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var output: String { log.withLock { $0 } }
    var isRunning: Bool { process.isRunning }

    func waitUntilListening(on port: Int) async throws {
        let listening = try await waitUntil { !self.isRunning || self.output.contains("listening on 127.0.0.1:\(port)") }
        guard listening, isRunning else { throw TestFailure("server \(name) did not start:\n\(output)") }
    }

    /// SIGTERM (if still running) and the exit status.
    func terminate() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
