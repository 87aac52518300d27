import NetStoreTestSupport
import Foundation
import Testing

/// TLS between real processes on 127.0.0.1, with certificates from `netstore cert init`.
@Suite("TLS on every connection")
struct TLSTests {
    /// The files `netstore cert init DIR --host NAME=127.0.0.1` wrote for each name.
    struct Certificates {
        let directory: URL
        var ca: String { directory.appendingPathComponent("ca.pem").path }
        func certificate(_ name: String) -> String { directory.appendingPathComponent("\(name).pem").path }
        func key(_ name: String) -> String { directory.appendingPathComponent("\(name)-key.pem").path }

        /// Server flags for host `name`.
        func serverArguments(_ name: String) -> [String] {
            ["--tls-cert", certificate(name), "--tls-key", key(name), "--tls-ca", ca]
        }
    }

    static func makeCertificates(in dir: TemporaryDirectory, _ name: String, hosts: [String]) throws -> Certificates {
        let certificates = Certificates(directory: dir.path(name))
        let cli = CLI(server: nil, configDirectory: dir.path("config-cert"))
        let made = try cli.run(["cert", "init", certificates.directory.path] + hosts.flatMap { ["--host", "\($0)=127.0.0.1"] })
        guard made.succeeded else { throw TestFailure("cert init failed: \(made.stderr)") }
        return certificates
    }

    @Test("cert init writes a CA and host certificates; a TLS server refuses a wrong CA and a plain client, clearly")
    func clientsVerifyTheServer() async throws {
        let dir = try TemporaryDirectory("netstore-tls")
        defer { dir.remove() }
        let good = try Self.makeCertificates(in: dir, "certs", hosts: ["a"])
        let other = try Self.makeCertificates(in: dir, "other", hosts: ["a"])
        let keyMode = try FileManager.default.attributesOfItem(atPath: good.key("a"))[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let caKeyMode = try FileManager.default.attributesOfItem(atPath: good.directory.appendingPathComponent("ca-key.pem").path)[.posixPermissions] as? Int
        #expect(caKeyMode == 0o600)

        let server = try await ServerProcess(directory: dir, extraArguments: good.serverArguments("a"))
        defer { server.kill9() }
        #expect(server.output.contains("TLS on the client port"), "\(server.output)")

        let cli = CLI(server: server.address, configDirectory: dir.path("config-ok"))
        let pw = dir.path("pw")
        try ServerProcess.adminPassword.write(to: pw, atomically: true, encoding: .utf8)
        let login = try cli.run("login", "admin", "--password-file", pw.path, "--tls-ca", good.ca)
        #expect(login.succeeded, "\(login.stderr)")
        // The CA is remembered with the session: later commands need no flag.
        let listed = try cli.run("ls", "/")
        #expect(listed.succeeded, "\(listed.stderr)")

        let wrong = CLI(server: server.address, configDirectory: dir.path("config-wrong"))
        let refused = try wrong.run("login", "admin", "--password-file", pw.path, "--tls-ca", other.ca)
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("TLS certificate of \(server.address) is not signed by the CA in \(other.ca)"), "\(refused.stderr)")

        let plain = try wrong.run("login", "admin", "--password-file", pw.path)
        #expect(!plain.succeeded)
        #expect(plain.stderr.contains("accepts only TLS"), "\(plain.stderr)")
        #expect(plain.stderr.contains("--tls-ca"), "\(plain.stderr)")
        #expect(server.output.contains("refused a connection without TLS"), "\(server.output)")
    }

    @Test("a TLS client to a plain server is told the server did not answer with TLS")
    func tlsClientToPlainServer() async throws {
        let dir = try TemporaryDirectory("netstore-tls-plain")
        defer { dir.remove() }
        let certificates = try Self.makeCertificates(in: dir, "certs", hosts: ["a"])
        let server = try await ServerProcess(directory: dir)
        defer { server.kill9() }
        #expect(server.output.contains("TLS is off"), "\(server.output)")
        let cli = CLI(server: server.address, configDirectory: dir.path("config"))
        let pw = dir.path("pw")
        try ServerProcess.adminPassword.write(to: pw, atomically: true, encoding: .utf8)
        let login = try cli.run("login", "admin", "--password-file", pw.path, "--tls-ca", certificates.ca)
        #expect(!login.succeeded)
        #expect(login.stderr.contains("\(server.address) did not answer with TLS"), "\(login.stderr)")
        #expect(server.output.contains("a client began a TLS handshake, but this server runs without TLS"), "\(server.output)")
    }

    @Test("three servers over mutual TLS replicate; a server with another CA's certificate is refused as a replica")
    func clusterOverTLS() async throws {
        let dir = try TemporaryDirectory("netstore-tls-cluster")
        defer { dir.remove() }
        let good = try Self.makeCertificates(in: dir, "certs", hosts: ["a", "b"])
        let foreign = try Self.makeCertificates(in: dir, "foreign", hosts: ["c"])
        let ports = try freePorts(3)
        let keyFile = dir.path("cluster.key")
        try "a-test-cluster-key-0123456789".write(to: keyFile, atomically: true, encoding: .utf8)
        func arguments(_ index: Int, tls: [String]) -> [String] {
            var arguments = ["--role", index == 0 ? "primary" : "backup", "--cluster-key-file", keyFile.path]
            for (other, port) in ports.enumerated() where other != index { arguments += ["--replica", "127.0.0.1:\(port)"] }
            return arguments + tls
        }
        let backup = try await ServerProcess(
            directory: dir, name: "server1", port: ports[1], extraArguments: arguments(1, tls: good.serverArguments("b")))
        defer { backup.kill9() }
        let primary = try await ServerProcess(
            directory: dir, name: "server0", port: ports[0], extraArguments: arguments(0, tls: good.serverArguments("a")))
        defer { primary.kill9() }

        // Server 2 knows the cluster key and trusts the cluster's CA, but holds a certificate of another CA.
        // Started as a primary, it asks the others for votes at once, presenting that certificate.
        let intruderTLS = ["--tls-cert", foreign.certificate("c"), "--tls-key", foreign.key("c"), "--tls-ca", good.ca]
        let intruder = Process()
        intruder.executableURL = Binaries.server
        intruder.arguments = ["--listen", "127.0.0.1:\(ports[2])", "--data", dir.path("server2").path]
            + arguments(2, tls: intruderTLS).map { $0 == "backup" ? "primary" : $0 }
        let intruderLog = LogBuffer()
        try intruderLog.launch(intruder)
        defer { intruder.terminate(); intruder.waitUntilExit() }

        let admin = CLI(server: primary.address, configDirectory: dir.path("config-admin"))
        let pw = dir.path("pw")
        try ServerProcess.adminPassword.write(to: pw, atomically: true, encoding: .utf8)
        let login = try admin.run("login", "admin", "--password-file", pw.path, "--tls-ca", good.ca)
        #expect(login.succeeded, "\(login.stderr)")
        let local = dir.path("in")
        let sha = try writeRandomFile(local, size: 300_000, seed: 7)
        let put = try admin.run("put", local.path, "/f")
        #expect(put.succeeded, "\(put.stderr)")

        // The same bytes from the backup, over TLS, once it has applied the change
        // (a backup applies after the quorum acknowledged, so it may show an older state first).
        let reader = CLI(server: backup.address, configDirectory: dir.path("config-admin"))
        let out = dir.path("out")
        let same = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            try? FileManager.default.removeItem(at: out)
            guard try reader.run("get", "/f", out.path).succeeded else { return false }
            return try sha256(of: out) == sha
        }
        #expect(same, "the backup never served the bytes put on the primary")

        // The intruder's handshakes fail both ways (its certificate as a client, and as a
        // server), the primary says why, and the intruder never becomes anyone's replica.
        let refused = try await waitUntil(timeout: .seconds(10)) {
            primary.output.contains("the peer presented a certificate that is not signed by this cluster's CA")
                && primary.output.contains("the TLS certificate of 127.0.0.1:\(ports[2]) is not signed by the CA in \(good.ca)")
        }
        #expect(refused, "\(primary.output)")
        #expect(!intruderLog.value.contains("replication connection open"), "\(intruderLog.value)")
        #expect(!intruderLog.value.contains("role=primary"), "\(intruderLog.value)")
        #expect(backup.output.contains("replication connection open"), "\(backup.output)")

        // The cluster key alone, over TLS without a certificate, does not make a replica.
        let keyHolder = dir.path("config-key")
        try FileManager.default.createDirectory(at: keyHolder.appendingPathComponent("netstore"), withIntermediateDirectories: true)
        try """
            user=replica
            servers=\(primary.address)
            token=a-test-cluster-key-0123456789
            tls-ca=\(good.ca)

            """.write(to: keyHolder.appendingPathComponent("netstore/session"), atomically: true, encoding: .utf8)
        let posing = try CLI(server: nil, configDirectory: keyHolder).run("ls", "/")
        #expect(!posing.succeeded)
        #expect(posing.stderr.contains("must present its TLS certificate"), "\(posing.stderr)")
    }
}

/// `netstore-web` serving HTTPS itself, and reaching a TLS server with the cluster's CA.
@Suite("The web viewer over HTTPS")
struct WebHTTPSTests {
    @Test("netstore-web serves HTTPS with its certificate, logs in through a TLS server, and sets Secure cookies; plain HTTP and an unknown CA get nothing")
    func httpsViewer() async throws {
        let dir = try TemporaryDirectory("netstore-web-https")
        defer { dir.remove() }
        let certificates = try TLSTests.makeCertificates(in: dir, "certs", hosts: ["a", "web"])
        let server = try await ServerProcess(directory: dir, extraArguments: certificates.serverArguments("a"))
        defer { server.kill9() }
        let port = try freePorts(1)[0]
        let web = Process()
        web.executableURL = Binaries.web
        web.arguments = [
            "--listen", "127.0.0.1:\(port)", "--server", server.address,
            "--tls-cert", certificates.certificate("web"), "--tls-key", certificates.key("web"),
            "--tls-ca", certificates.ca, "--log-level", "warning",
        ]
        let log = dir.path("web.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        web.standardOutput = logHandle
        web.standardError = logHandle
        try web.run()
        defer { web.terminate(); web.waitUntilExit() }
        let base = "https://127.0.0.1:\(port)"
        let jar = dir.path("cookies.txt").path
        func curl(_ arguments: [String]) throws -> CommandResult {
            try runCommand(URL(fileURLWithPath: "/usr/bin/curl"),
                           ["--silent", "--show-error", "--max-time", "10", "--cacert", certificates.ca,
                            "--cookie", jar, "--cookie-jar", jar] + arguments)
        }
        let up = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(100)) {
            try curl(["--output", "/dev/null", "\(base)/login"]).succeeded
        }
        #expect(up, "netstore-web did not serve HTTPS: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")

        let form = try curl(["\(base)/login"])
        let csrf = try #require(form.stdout.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1, "\(form.stdout)")
        let login = try curl([
            "--include", "--data-urlencode", "user=admin", "--data-urlencode", "password=\(ServerProcess.adminPassword)",
            "--data-urlencode", "csrf=\(csrf)", "\(base)/login",
        ])
        #expect(login.stdout.contains("303"), "\(login.stdout) \(login.stderr)")
        let cookie = login.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") && !$0.contains("Max-Age=0") }
        #expect(cookie?.contains("Secure") == true, "\(login.stdout)")
        // The listing comes from the TLS server through the viewer's verified connection.
        let files = try curl(["--write-out", "%{http_code}", "--output", "/dev/null", "\(base)/files/"])
        #expect(files.stdout == "200", "\(files.stdout) \(files.stderr)")

        let plain = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"),
                                   ["--silent", "--max-time", "5", "--write-out", "%{http_code}", "http://127.0.0.1:\(port)/login"])
        #expect(plain.stdout != "200")
        let unknownCA = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["--silent", "--max-time", "5", "\(base)/login"])
        #expect(!unknownCA.succeeded)
    }
}
