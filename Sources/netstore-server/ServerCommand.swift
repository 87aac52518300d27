import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreServer

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netstore-server",
        abstract: "Serve a NetStore file store.",
        discussion: """
            With --config FILE --name NAME the server takes its settings from the cluster's \
            configuration file (docs/deploy.md), and the file's other servers become its replicas; \
            flags given as well override the file.
            """)

    @Option(help: "The cluster's configuration file (TOML); needs --name.")
    var config: String?

    @Option(help: "This server's name in --config.")
    var name: String?

    @Option(help: "primary or backup (default: primary). A backup follows the primary, serves reads and refuses changes.")
    var role: String?

    @Option(name: .customLong("replica"), help: ArgumentHelp(
        "Another server of the cluster, HOST:PORT (repeat for each). Every server must list the others spelt alike.",
        valueName: "host:port"))
    var replicas: [String] = []

    @Option(help: "On how many servers a change must be durable before it is answered: 1 to the number of servers (default: a majority).")
    var writeQuorum: Int?

    @Option(help: "Address to listen on, HOST:PORT (default: 127.0.0.1:7070, or the configuration's listen, else address).")
    var listen: String?

    @Option(help: "This server's address as the others name it, HOST:PORT (default: --listen, or the configuration's address).")
    var address: String?

    @Option(help: "Data directory (default ~/.local/share/netstore/primary, or .../NAME with --config).")
    var data: String?

    @Option(help: "File holding the first admin's password, used when the store is new.")
    var adminPasswordFile: String?

    @Option(help: "Seconds a login stays valid (default 30 days).")
    var tokenLifetime: Int64 = 30 * 24 * 3600

    @Option(help: "File whose first line is the secret every server of a replicated cluster shares (required with --replica).")
    var clusterKeyFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (default: info).")
    var logLevel: String?

    @Option(help: "Applied log entries kept for backups that fall behind; one further behind gets a snapshot (default 100000).")
    var retainLogEntries: Int?

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off).")
    var metricsListen: String?

    @Option(help: "This server's TLS certificate (PEM; netstore cert init makes one). With --tls-key and --tls-ca the client port speaks only TLS.")
    var tlsCert: String?

    @Option(help: "The private key of --tls-cert (PEM).")
    var tlsKey: String?

    @Option(help: "The cluster's CA certificate (PEM): the other servers' certificates must chain to it.")
    var tlsCa: String?

    func run() async throws {
        // Tasks run on the event loops that serve their sockets: a request's
        // reply and its next read need no thread switch to and from a pool.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let resolved = Result { () throws(SettingsError) in try resolve() }
        guard case let .success(settings) = resolved else {
            if case let .failure(error) = resolved {
                FileHandle.standardError.write(Data("netstore-server: \(error.message)\n".utf8))
            }
            throw ExitCode.failure
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "netstore-server")
        if let file = settings.configurationFile { logger.info("configuration", metadata: ["file": "\(file)"]) }
        let server: NetStoreServer
        do {
            server = try NetStoreServer(configuration: settings.server, logger: logger, eventLoopGroup: .singleton)
        } catch {
            logger.critical("cannot open the store in \(settings.server.dataDirectory.path): \(error)")
            throw ExitCode.failure
        }
        let endpoint = settings.metrics.map {
            MetricsEndpoint(server: server, host: $0.host, port: $0.port, logger: logger)
        }
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.info("shutting down (signal \(number))")
                server.shutdown()
                endpoint?.shutdown()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        do {
            try await withThrowingDiscardingTaskGroup { group in
                if let endpoint {
                    group.addTask {
                        do {
                            try await endpoint.run()
                        } catch {
                            server.shutdown()
                            throw error
                        }
                    }
                }
                do {
                    try await server.run()
                } catch {
                    endpoint?.shutdown()
                    throw error
                }
                endpoint?.shutdown()
            }
        } catch {
            logger.critical("cannot serve on \(settings.server.host):\(settings.server.port)\(settings.metrics.map { " (metrics \($0.host):\($0.port))" } ?? ""): \(error)")
            await server.close()
            throw ExitCode.failure
        }
        await server.close()
    }
}
