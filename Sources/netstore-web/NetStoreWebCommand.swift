import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOSSL
import NetStoreClient
import NetStoreCore
import NetStoreTLS
import NetStoreWeb

/// `netstore-web`: serves the web viewer for a NetStore cluster.
@main
struct NetStoreWebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netstore-web",
        abstract: "Serve the NetStore web viewer: browse, upload, preview and download your stored files.")

    @Option(name: .long, help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:8080"

    @Option(name: .long, help: "The cluster's servers, HOST:PORT[,HOST:PORT...] (default: NETSTORE_SERVERS, ~/.config/netstore/config.toml's, 127.0.0.1:7070).")
    var server: String?

    @Flag(name: .long, help: "Browsers reach this server over HTTPS (through a TLS proxy): mark cookies Secure.")
    var secureCookies = false

    @Option(name: .long, help: "Serve HTTPS with this certificate (PEM); needs --tls-key. Cookies are then Secure.")
    var tlsCert: String?

    @Option(name: .long, help: "The private key of --tls-cert (PEM).")
    var tlsKey: String?

    @Option(name: .customLong("tls-ca"), help: "The cluster's CA certificate: connect to the servers with TLS and verify them against it (default: NETSTORE_TLS_CA, the configuration file's tls-ca; none: plain TCP).")
    var tlsCA: String?

    @Option(name: .long, help: "Minutes an unused session lasts.")
    var sessionMinutes = 120

    @Option(name: .long, help: "Failed logins one browser address may make within --login-window-minutes before it must wait.")
    var loginFailures = 10

    @Option(name: .long, help: "Minutes over which failed logins from one browser address are counted.")
    var loginWindowMinutes = 15

    @Option(name: .long, help: ArgumentHelp(
        "Address of a reverse proxy whose X-Forwarded-For header names the browser (repeatable).",
        discussion: "Without it X-Forwarded-For is ignored: the connection's own address is the browser's."))
    var trustedProxy: [String] = []

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "netstore.web")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let servers: [ServerAddress]
        let host: String
        let port: Int
        do {
            servers = try DefaultServers.resolve(flag: server, saved: nil)
        } catch {
            throw ValidationError(error.message)
        }
        (host, port) = try Self.parseListen(listen)
        let clusterTLS: ClientTLS?
        var https: TLSConfiguration?
        do {
            clusterTLS = try DefaultServers.resolveTLS(flag: tlsCA, saved: nil)
            if tlsCert != nil || tlsKey != nil {
                guard let tlsCert, let tlsKey else { throw ValidationError("HTTPS needs both --tls-cert and --tls-key") }
                https = try HTTPSFiles.configuration(certificateFile: tlsCert, keyFile: tlsKey)
            }
        } catch let error as NetStoreError {
            throw ValidationError(error.message)
        }
        guard sessionMinutes > 0 else { throw ValidationError("--session-minutes must be positive") }
        guard loginFailures > 0 else { throw ValidationError("--login-failures must be positive") }
        guard loginWindowMinutes > 0 else { throw ValidationError("--login-window-minutes must be positive") }
        let configuration = WebConfiguration(
            host: host, port: port, servers: servers, secureCookies: secureCookies || https != nil,
            sessionIdleTimeout: .seconds(sessionMinutes * 60),
            loginFailuresPerAddress: loginFailures, loginFailureWindow: .seconds(loginWindowMinutes * 60),
            trustedProxies: Set(trustedProxy), logger: logger, clusterTLS: clusterTLS, https: https)
        let app = buildApplication(configuration)
        try await app.runService()
    }

    /// HOST:PORT, where port 0 asks for a free port.
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("--listen '\(text)': write HOST:PORT, e.g. 127.0.0.1:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
