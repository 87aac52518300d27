import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreAuth
import NetStoreClient
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import NetStoreTLS

/// The network server: accepts connections, decodes frames, runs each request
/// through the dispatcher (many at once per connection) and writes the replies.
public final class NetStoreServer: Sendable {
    public let configuration: ServerConfiguration
    public let store: Store
    public let accounts: AccountService
    /// The replicated log every mutation goes through.
    public let replication: ReplicationEngine
    /// Connections to the other servers; nil on a server without replicas.
    let transport: TCPReplicationTransport?
    let dispatcher: RequestDispatcher
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    /// False when the group was given (the process's shared one): not ours to shut down.
    let ownsGroup: Bool
    let threadPool: NIOThreadPool
    /// Requests, bytes and gauges, served by a `MetricsEndpoint` when one is started.
    public let metrics: ServerMetrics
    private let open = OpenChannels()

    /// Opens the store and, on an empty one, creates the first admin.
    /// `eventLoopGroup`: the event loops to serve on; nil makes the server its own.
    public init(configuration: ServerConfiguration, logger: Logger, eventLoopGroup: MultiThreadedEventLoopGroup? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        let metrics = ServerMetrics()
        self.metrics = metrics
        try FileManager.default.createDirectory(
            at: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        store = try Store(directory: configuration.dataDirectory, logger: logger)
        if configuration.role == .primary, try store.adoptPreLogState() {
            logger.notice("this store predates the replicated log: its state becomes the log start, and backups are sent a snapshot of it")
        }
        group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        ownsGroup = eventLoopGroup == nil
        threadPool = NIOThreadPool(numberOfThreads: configuration.storageThreads)
        threadPool.start()
        let replicas: ReplicationConfiguration
        let selfID: ReplicaID
        var addresses: [ReplicaID: String] = [:]
        if configuration.replicas.isEmpty {
            selfID = ReplicaID(1)
            replicas = ReplicationConfiguration(replicas: [selfID], writeQuorum: 1)
            transport = nil
        } else {
            guard let key = configuration.clusterKey else {
                throw NetStoreError(.invalid, "replicated servers prove themselves to each other with a shared key: give every server the same --cluster-key-file")
            }
            guard configuration.port != 0 else {
                throw NetStoreError(.invalid, "a replicated server needs a fixed port in --listen: the others name it by its address")
            }
            let ids = try configuration.replicaIDs()
            selfID = ReplicaID(ids.own)
            for (address, id) in ids.all { addresses[ReplicaID(id)] = address }
            let all = ids.all.values.sorted().map { ReplicaID($0) }
            if let quorum = configuration.writeQuorum, !(1...all.count).contains(quorum) {
                throw NetStoreError(.invalid, "--write-quorum must be 1 to \(all.count) with \(all.count) servers, not \(quorum)")
            }
            replicas = ReplicationConfiguration(replicas: all, writeQuorum: configuration.writeQuorum)
            var peers: [ReplicaID: ServerAddress] = [:]
            for (address, id) in ids.all where id != ids.own { peers[ReplicaID(id)] = try ServerAddress(parsing: address) }
            transport = TCPReplicationTransport(
                selfID: selfID, peers: peers, clusterKey: key, store: store, threadPool: threadPool,
                tls: configuration.tls?.peerClient, metrics: metrics, logger: logger)
            logger.info("replicas", metadata: [
                "self": "\(selfID)", "all": "\(ids.all.sorted { $0.value < $1.value }.map { "r\($0.value)=\($0.key)" })",
                "write-quorum": "\(replicas.writeQuorum)"])
        }
        replication = try ReplicationEngine(
            id: selfID, configuration: replicas,
            store: store, transport: transport,
            proposalTimeout: .seconds(configuration.proposalTimeoutSeconds),
            retainedLogEntries: configuration.retainedLogEntries, logger: logger)
        accounts = AccountService(store: store, submitter: replication, tokenLifetimeSeconds: configuration.tokenLifetimeSeconds)
        var peerBlocks: PeerBlockFetcher?
        if !configuration.replicas.isEmpty, let key = configuration.clusterKey {
            peerBlocks = PeerBlockFetcher(
                peers: try configuration.replicas.map { try ServerAddress(parsing: $0) }, clusterKey: key,
                tls: configuration.tls?.peerClient, logger: logger)
        }
        dispatcher = RequestDispatcher(
            store: store, accounts: accounts, threadPool: threadPool, submitter: replication,
            role: configuration.role.rawValue, replication: replication,
            clusterKey: configuration.replicas.isEmpty ? nil : configuration.clusterKey,
            peerBlocks: peerBlocks, replicaAddresses: addresses, logger: logger)
    }

    /// Binds and serves until `shutdown()`; returns once every connection has closed.
    public func run(onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        let replication = self.replication
        let transport = self.transport
        let engine = Task { await replication.run() }
        let senders = Task { await transport?.run() }
        do {
            try await serve(onListening: onListening)
        } catch {
            engine.cancel()
            senders.cancel()
            await engine.value
            await senders.value
            throw error
        }
        engine.cancel()
        senders.cancel()
        await engine.value
        await senders.value
        logger.info("stopped")
    }

    private func serve(onListening: @escaping @Sendable (SocketAddress) -> Void) async throws {
        let tls = configuration.tls
        let logger = self.logger
        if let tls {
            logger.info("TLS on the client port; replicas must present a certificate of the cluster's CA",
                        metadata: ["certificate": "\(tls.certificateFile)", "ca": "\(tls.caFile)"])
        } else {
            logger.warning("TLS is off: traffic to and from this server, passwords and replication included, is unencrypted; use plain TCP only on loopback or a trusted network (start with --tls-cert, --tls-key and --tls-ca)")
        }
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCountingHandler(self.metrics))
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(PlainClientGuard(logger: logger))
                        try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                        try channel.pipeline.syncOperations.addHandler(PeerCertificateRecorder())
                    } else {
                        try channel.pipeline.syncOperations.addHandler(TLSClientNotice(logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RequestFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ResponseFrameWriter())
                    return try Self.finishedOnClose(NIOAsyncChannel<RequestFrame, ResponseFrame>(wrappingChannelSynchronously: channel))
                }
            }
        if !open.setListener(listener.channel) { try? await listener.channel.close() }
        let address = listener.channel.localAddress
        let announce = { @Sendable in
            guard let address else { return }
            self.logger.info("listening on \(self.configuration.host):\(address.port ?? self.configuration.port)",
                             metadata: ["data": "\(self.configuration.dataDirectory.path)", "role": "\(self.configuration.role.rawValue)"])
            onListening(address)
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.collectGarbagePeriodically() }
            if configuration.role == .primary {
                // The listener runs meanwhile: the backups' votes arrive through it.
                group.addTask {
                    do {
                        try await self.takeOffice()
                        announce()
                    } catch {
                        self.logger.critical("cannot create the first admin: \(error)")
                        self.shutdown()
                    }
                }
            } else {
                announce()
            }
            try await listener.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
            // The listener is closed: stop the collector; connections drain on their own.
            group.cancelAll()
        }
    }

    /// A primary takes office under a new term (its log is re-applied from the stored
    /// applied index; with backups it needs a majority's votes, so it asks until it
    /// has them), then, on an empty store, creates the first admin.
    private func takeOffice() async throws {
        while !Task.isCancelled, !open.isShuttingDown {
            let outcome = await replication.promote()
            if case .promoted = outcome { break }
            if replication.status.isPrimary { break }
            logger.notice("not primary yet: waiting for a majority of the servers", metadata: ["outcome": "\(outcome)"])
            try await Task.sleep(for: .seconds(1))
        }
        await replication.waitUntilPrimary()
        // With a write quorum above a majority, the first admin waits for the last backup too.
        while true {
            do {
                _ = try await accounts.bootstrapAdmin(
                    passwordFile: configuration.adminPasswordFile,
                    dataDirectory: configuration.dataDirectory, logger: logger)
                return
            } catch let error as NetStoreError where error.code == .readOnly || error.code == .timedOut {
                if Task.isCancelled || open.isShuttingDown { throw error }
                logger.notice("the first admin waits for the write quorum: \(error.message)")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Stops accepting, lets requests in flight finish, then closes every connection.
    public func shutdown() {
        let (listener, connections) = open.beginShutdown()
        listener?.close(promise: nil)
        for connection in connections {
            // Half-close: no new requests are read; replies in flight are still written.
            connection.close(mode: .input, promise: nil)
        }
    }

    /// Releases threads; call after `run()` returned.
    public func close() async {
        try? await threadPool.shutdownGracefully()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    private func serve(_ connection: NIOAsyncChannel<RequestFrame, ResponseFrame>) async {
        let channel = connection.channel
        guard open.add(channel) else {
            try? await channel.close()
            return
        }
        defer { open.remove(channel) }
        let peer = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        let certificate = configuration.tls == nil
            ? nil : try? await channel.pipeline.handler(type: PeerCertificateRecorder.self).map(\.certificate).get()
        if configuration.tls != nil && certificate == nil {
            try? await channel.close()
            return
        }
        let session = ConnectionSession(peer: peer, certificate: certificate)
        let changes = replication.changes
        defer { changes.unwatch(connection: session.id) }
        let dispatcher = self.dispatcher
        let metrics = self.metrics
        let maxInFlight = configuration.maxRequestsInFlightPerConnection
        let logger = self.logger
        // The connection's tasks run on its channel's loop (see EventLoopTaskExecutor).
        let onChannelLoop = EventLoopTaskExecutor(channel.eventLoop)
        do {
            try await withTaskExecutorPreference(onChannelLoop) {
                try await connection.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        // Unasked CHANGES frames, once the connection WATCHes; ends with the connection.
                        defer { session.outbox.close() }
                        group.addTask {
                            try await dispatcher.sendNotices(of: session) { notices in
                                try await outbound.write(ResponseFrame(
                                    requestID: ChangeNotice.frameRequestID, opcode: .changes, result: .success(.changes(notices))))
                            }
                        }
                        var unfinished = 0
                        do {
                            for try await frame in inbound {
                                if frame.request.opcode == .replicateNotice {
                                    // Handled here, not in a task of its own, so notices reach the
                                    // replica in the order sent. No reply; a refusal ends the connection.
                                    let result = await metrics.measure(frame.request.opcode) {
                                        await dispatcher.handle(frame.request, session: session)
                                    }
                                    if case .failure(let error) = result {
                                        logger.warning("closing connection after a refused replicate notice",
                                                       metadata: ["peer": "\(peer)", "error": "\(error)"])
                                        try await outbound.write(ResponseFrame(requestID: 0, opcode: .replicateNotice, result: .failure(error)))
                                        break
                                    }
                                    continue
                                }
                                if unfinished >= maxInFlight {
                                    try await group.next()
                                    unfinished -= 1
                                }
                                unfinished += 1
                                group.addTask {
                                    let result = await metrics.measure(frame.request.opcode) {
                                        await dispatcher.handle(frame.request, session: session)
                                    }
                                    try await outbound.write(ResponseFrame(
                                        requestID: frame.requestID, opcode: frame.request.opcode, result: result))
                                }
                            }
                        } catch let error as ProtocolError {
                            session.outbox.close()
                            try await group.waitForAll()
                            logger.warning("closing connection after a malformed frame",
                                           metadata: ["peer": "\(peer)", "reason": "\(error.reason)"])
                            try? await outbound.write(ResponseFrame(
                                requestID: 0, opcode: .ping,
                                result: .failure(NetStoreError(.protocolError, error.reason))))
                        }
                        session.outbox.close()
                        try await group.waitForAll()
                    }
                }
            }
        } catch where TLSFailure.isTLSError(error) && !TLSFailure.isUncleanShutdown(error) {
            // A handshake that failed is worth a line: a wrong CA, or a stranger trying.
            logger.warning("TLS connection refused or broken: \(TLSFailure.describeIncoming(error))", metadata: ["peer": "\(peer)"])
        } catch {
            logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// `connection`, finished once its channel closes (through
    /// `executeThenClose`, which finishes its writer; after `serve`'s, a second
    /// does nothing). A writer dropped unfinished stops the process (a
    /// precondition of NIOAsyncChannel), and a connection can be dropped
    /// unserved: one accepted as the listener closes never reaches `serve`
    /// (found by connecting while a server shut down), and `serve` closes
    /// the channel of one it refuses.
    static func finishedOnClose<Inbound, Outbound>(_ connection: NIOAsyncChannel<Inbound, Outbound>) -> NIOAsyncChannel<Inbound, Outbound> {
        connection.channel.closeFuture.whenComplete { _ in
            Task { try? await connection.executeThenClose { _, _ in } }
        }
        return connection
    }

    private func collectGarbagePeriodically() async {
        let interval = configuration.garbageIntervalSeconds
        let grace = configuration.garbageGraceSeconds
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(interval))
            } catch {
                return
            }
            let cutoff = AccountService.wallClock() - grace * 1_000_000_000
            do {
                let removed = try await threadPool.runIfActive { [store] in try store.collectGarbage(storedBefore: cutoff) }
                if removed > 0 { logger.info("collected unreferenced blocks", metadata: ["count": "\(removed)"]) }
            } catch {
                logger.error("block collection failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
