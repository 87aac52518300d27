import ArgumentParser
import Dispatch
import Foundation
import Logging
import NetStoreServer

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netstore-server",
        abstract: "Serve a NetStore file store.")

    @Option(help: "primary or backup. A backup follows the primary, serves reads and refuses changes.")
    var role: String = "primary"

    @Option(name: .customLong("replica"), help: ArgumentHelp(
        "Another server of the cluster, HOST:PORT (repeat for each). Every server must list the others spelt alike.",
        valueName: "host:port"))
    var replicas: [String] = []

    @Option(help: "On how many servers a change must be durable before it is answered: 1 to the number of servers (default: a majority).")
    var writeQuorum: Int?

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen: String = "127.0.0.1:7070"

    @Option(help: "Data directory (default ~/.local/share/netstore/primary).")
    var data: String?

    @Option(help: "File holding the first admin's password, used when the store is new.")
    var adminPasswordFile: String?

    @Option(help: "Seconds a login stays valid (default 30 days).")
    var tokenLifetime: Int64 = 30 * 24 * 3600

    @Option(help: "File whose first line is the secret every server of a replicated cluster shares (required with --replica).")
    var clusterKeyFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        guard let serverRole = ServerRole(rawValue: role) else {
            throw ValidationError("--role is primary or backup, not '\(role)'")
        }
        if serverRole == .backup && replicas.isEmpty {
            throw ValidationError("a backup needs --replica HOST:PORT for each other server")
        }
        if !replicas.isEmpty && clusterKeyFile == nil {
            throw ValidationError("replicated servers prove themselves to each other with a shared key: give every server the same --cluster-key-file (e.g. head -c 32 /dev/urandom | base64 > cluster.key)")
        }
        let clusterKey = try clusterKeyFile.map { try ClusterKey.read(from: URL(fileURLWithPath: $0)) }
        if writeQuorum != nil && replicas.isEmpty {
            throw ValidationError("--write-quorum needs --replica: a single server is its own quorum")
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port)
        else {
            throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:7070")
        }
        let host = String(listen[..<colon])
        guard tokenLifetime > 0 else { throw ValidationError("--token-lifetime must be positive") }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "netstore-server")
        let config = ServerConfiguration(
            host: host, port: port,
            dataDirectory: data.map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultDataDirectory(name: serverRole == .primary ? "primary" : "backup-\(port)"),
            adminPasswordFile: adminPasswordFile.map { URL(fileURLWithPath: $0) },
            tokenLifetimeSeconds: tokenLifetime, role: serverRole, replicas: replicas, writeQuorum: writeQuorum,
            clusterKey: clusterKey)
        let server: NetStoreServer
        do {
            server = try NetStoreServer(configuration: config, logger: logger)
        } catch {
            logger.critical("cannot open the store in \(config.dataDirectory.path): \(error)")
            throw ExitCode.failure
        }
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.info("shutting down (signal \(number))")
                server.shutdown()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        do {
            try await server.run()
        } catch {
            logger.critical("cannot serve on \(listen): \(error)")
            await server.close()
            throw ExitCode.failure
        }
        await server.close()
    }
}
