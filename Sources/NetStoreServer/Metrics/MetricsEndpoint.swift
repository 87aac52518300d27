import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NetStoreReplication

/// A minimal HTTP/1.1 responder for Prometheus: `GET /metrics` answers the
/// server's metrics in the text exposition format, anything else 404 or 405.
/// One request per connection (the answer closes it), which every scraper accepts
/// and which leaves nothing to time out. Meant for a private address: it has no
/// authentication, and it tells counts, not contents.
public final class MetricsEndpoint: Sendable {
    let server: NetStoreServer
    let host: String
    let port: Int
    let logger: Logger
    private let open = OpenChannels()
    /// Each other server's address by replica id: the label of its per-backup gauges.
    private let peerNames: [ReplicaID: String]

    public init(server: NetStoreServer, host: String, port: Int, logger: Logger) {
        self.server = server
        self.host = host
        self.port = port
        self.logger = logger
        peerNames = server.dispatcher.replicaAddresses
    }

    /// Binds and answers until `shutdown()`.
    public func run(onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        let listener = try await ServerBootstrap(group: server.group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NetStoreServer.finishedOnClose(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel))
                }
            }
        if !open.setListener(listener.channel) { try? await listener.channel.close() }
        if let address = listener.channel.localAddress {
            logger.info("metrics on http://\(host):\(address.port ?? port)/metrics")
            onListening(address)
        }
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.answer(connection) }
                }
            }
        }
    }

    /// Stops accepting and closes the connections still open.
    public func shutdown() {
        let (listener, connections) = open.beginShutdown()
        listener?.close(promise: nil)
        for connection in connections { connection.close(promise: nil) }
    }

    private func answer(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let channel = connection.channel
        guard open.add(channel) else {
            try? await channel.close()
            return
        }
        defer { open.remove(channel) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case let .head(request):
                        head = request
                    case .body:
                        continue
                    case .end:
                        guard let head else { return }
                        let (status, headers, body) = await self.response(to: head)
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                        if head.method != .HEAD {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                        }
                        try await outbound.write(.end(nil))
                        return
                    }
                }
            }
        } catch {
            logger.debug("metrics connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func response(to head: HTTPRequestHead) async -> (HTTPResponseStatus, HTTPHeaders, [UInt8]) {
        var headers = HTTPHeaders([("Connection", "close")])
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path == "/metrics" else {
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            let body = Array("not found: the metrics are at /metrics\n".utf8)
            headers.add(name: "Content-Length", value: "\(body.count)")
            return (.notFound, headers, body)
        }
        guard head.method == .GET || head.method == .HEAD else {
            headers.add(name: "Allow", value: "GET, HEAD")
            headers.add(name: "Content-Length", value: "0")
            return (.methodNotAllowed, headers, [])
        }
        await sample()
        let body = server.metrics.render()
        headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.count)")
        return (.ok, headers, body)
    }

    /// Reads the gauges' values from the replicated log and the store.
    private func sample() async {
        let status = server.replication.status
        var values: [ServerMetrics.Sample: Int64] = [
            .term: Int64(clamping: status.term), .lastIndex: Int64(clamping: status.lastIndex),
            .commitIndex: Int64(clamping: status.commitIndex), .appliedIndex: Int64(clamping: status.appliedIndex),
            .isPrimary: status.isPrimary ? 1 : 0,
        ]
        let store = server.store
        do {
            let counts = try await server.threadPool.runIfActive { try store.counts() }
            values[.nodes] = Int64(clamping: counts.nodes)
            values[.users] = Int64(clamping: counts.users)
            values[.blocks] = Int64(clamping: counts.blocks)
            values[.blockBytes] = Int64(clamping: counts.blockBytes)
        } catch {
            logger.warning("metrics: cannot count the store", metadata: ["error": "\(error)"])
        }
        server.metrics.update(values)
        server.metrics.updateBackups(status.backups.map { backup in
            ServerMetrics.BackupSample(
                name: peerNames[backup.id] ?? "\(backup.id)",
                match: Int64(clamping: backup.match.rawValue), lag: Int64(clamping: status.lag(of: backup)))
        })
    }
}
