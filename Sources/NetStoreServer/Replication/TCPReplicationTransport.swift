import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreClient
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import NetStoreTLS
import Synchronization

/// Carries replication messages to the other servers over TCP, one persistent
/// connection per peer (each server sends on its own connection; answers come back
/// on the peer's), reconnecting after a failure.
///
/// Messages to one peer go out in order, each awaited (a backup's answers, and
/// appends that name no block, are notices, which have no reply), so the
/// receiver posts them to its replica in order. An append carries the blocks of the small files it
/// commits; the peer answers it with the blocks its entries refer to that it
/// still lacks; those are sent and the append again, so a backup never holds an
/// entry whose blocks it lacks.
/// A snapshot goes the same way, in order with the messages (see `+Snapshot`).
public final class TCPReplicationTransport: ReplicationTransport, Sendable {
    let selfID: ReplicaID
    let store: Store
    let threadPool: NIOThreadPool
    let logger: Logger
    private let peers: [ReplicaID: Peer]
    /// Presented with AUTH on every connection, so the peer accepts replication requests.
    private let clusterKey: String
    /// With TLS, connections present this server's certificate and verify the peer's.
    private let tls: ClientTLS?
    /// Where snapshot bodies are written before they are streamed.
    let outgoingDirectory: URL
    /// Each block a commit needs goes to every backup: read and hashed once.
    private let sentBlocks: SentBlockCache
    /// Per peer: client blocks sent ahead of their commit, on a connection of their own.
    private let forwarders: [BlockForwarder]

    enum Outgoing: Sendable {
        case message(ReplicationMessage)
        case snapshot(StoreSnapshot, SnapshotHeader)
    }

    final class Peer: Sendable {
        let id: ReplicaID
        let address: ServerAddress
        /// The loop its connection and its sender run on: a message leaves on the
        /// thread that takes it from the queue (see EventLoopTaskExecutor).
        let eventLoop: any EventLoop
        let queue: AsyncStream<Outgoing>
        let continuation: AsyncStream<Outgoing>.Continuation
        /// Whether the last exchange with the peer succeeded.
        let reachable = Mutex(false)
        /// The last connection failure logged, so a peer that stays unreachable is logged once, not per retry.
        let lastFailure = Mutex<String?>(nil)

        init(id: ReplicaID, address: ServerAddress) {
            self.id = id
            self.address = address
            eventLoop = MultiThreadedEventLoopGroup.singleton.next()
            // Dropping messages when a peer is slow is fine: the replica retransmits.
            (queue, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(1024))
        }
    }

    public init(selfID: ReplicaID, peers: [ReplicaID: ServerAddress], clusterKey: String, store: Store,
                threadPool: NIOThreadPool, tls: ClientTLS? = nil, metrics: ServerMetrics? = nil, logger: Logger) {
        self.selfID = selfID
        self.tls = tls
        self.clusterKey = clusterKey
        self.store = store
        self.threadPool = threadPool
        self.logger = logger
        self.peers = peers.mapValues { $0 }.reduce(into: [:]) { $0[$1.key] = Peer(id: $1.key, address: $1.value) }
        sentBlocks = SentBlockCache(takers: peers.count)
        forwarders = peers.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            BlockForwarder(peer: $0.key, address: $0.value, clusterKey: clusterKey, tls: tls, metrics: metrics, logger: logger)
        }
        outgoingDirectory = store.directory.appendingPathComponent("snapshot-outgoing")
        // Bodies left by an earlier run are stale: the replica asks for a new snapshot.
        try? FileManager.default.removeItem(at: outgoingDirectory)
    }

    public func send(_ message: ReplicationMessage, to replica: ReplicaID) {
        peers[replica]?.continuation.yield(.message(message))
    }

    public func sendSnapshot(_ snapshot: StoreSnapshot, header: SnapshotHeader, to replica: ReplicaID) {
        guard let peer = peers[replica], case .enqueued = peer.continuation.yield(.snapshot(snapshot, header)) else {
            snapshot.close()
            return
        }
    }

    public func forwardBlock(_ id: BlockID, bytes: ByteBuffer) {
        for forwarder in forwarders { forwarder.offer(id, bytes: bytes) }
    }

    public func rememberCarriedBlocks(_ blocks: [(id: BlockID, bytes: [UInt8])]) {
        for block in blocks { sentBlocks.remember(block.id, bytes: block.bytes) }
    }

    /// How many peers answered the last message sent to them.
    public var reachablePeers: Int { peers.values.filter { $0.reachable.withLock { $0 } }.count }

    /// Runs one sender and one block forwarder per peer until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for peer in peers.values {
                group.addTask { await self.runSender(peer) }
            }
            for forwarder in forwarders {
                group.addTask { await forwarder.run() }
            }
        }
    }

    private func runSender(_ peer: Peer) async {
        var connection: Connection?
        let onPeerLoop = EventLoopTaskExecutor(peer.eventLoop)
        await withTaskExecutorPreference(onPeerLoop) {
            await withTaskCancellationHandler {
                for await item in peer.queue {
                    switch item {
                    case .message(let message):
                        do {
                            let open = try await connected(connection, to: peer)
                            connection = open
                            for part in Self.split(message) { try await deliver(part, to: peer, over: open) }
                            peer.reachable.withLock { $0 = true }
                        } catch {
                            await lost(&connection, peer, error)
                        }
                    case .snapshot(let snapshot, let header):
                        await sendSnapshot(snapshot, header: header, to: peer, connection: &connection)
                    }
                }
            } onCancel: {
                peer.continuation.finish()
            }
        }
        await connection?.close()
    }

    /// The open connection to `peer`, or a new one that has presented the cluster key.
    func connected(_ connection: Connection?, to peer: Peer) async throws -> Connection {
        if let connection { return connection }
        let opened: Connection
        do {
            opened = try await Connection.connect(
                to: peer.address, timeout: .seconds(2), group: peer.eventLoop, tls: tls, logger: logger)
        } catch {
            if peer.lastFailure.withLock({ last in defer { last = error.message }; return last != error.message }) {
                logger.notice("cannot open the replication connection", metadata: ["peer": "\(peer.id) \(peer.address)", "error": "\(error.message)"])
            }
            // The message is dropped; wait before trying again (the replica resends).
            peer.reachable.withLock { $0 = false }
            try? await Task.sleep(for: .milliseconds(200))
            throw error
        }
        do {
            _ = try await opened.send(.auth(token: clusterKey))
        } catch {
            await opened.close()
            peer.reachable.withLock { $0 = false }
            logger.error("a replica refused this server's cluster key: every server needs the same --cluster-key-file",
                         metadata: ["peer": "\(peer.id) \(peer.address)", "error": "\(error)"])
            try? await Task.sleep(for: .milliseconds(200))
            throw error
        }
        peer.lastFailure.withLock { $0 = nil }
        logger.info("replication connection open", metadata: ["peer": "\(peer.id) \(peer.address)", "tls": "\(tls != nil)"])
        return opened
    }

    /// A failed exchange: the connection is closed and opened again for the next message.
    func lost(_ connection: inout Connection?, _ peer: Peer, _ error: any Error) async {
        peer.reachable.withLock { $0 = false }
        guard let open = connection else { return }
        logger.info("replication connection lost", metadata: ["peer": "\(peer.id) \(peer.address)", "error": "\(error)"])
        await open.close()
        connection = nil
    }

    /// Sends one message; an append whose blocks the peer lacks is sent again after
    /// them. Returns how many blocks were sent; nil if the peer still lacked blocks
    /// after they were sent.
    @discardableResult
    func deliver(_ message: ReplicationMessage, to peer: Peer, over connection: Connection) async throws -> Int? {
        if Self.needsNoReply(message) {
            // Nothing to wait for: the next goes out at once.
            try await connection.notify(.replicateNotice(from: selfID.rawValue, message: message))
            return 0
        }
        var previous: [BlockID] = []
        var sent = 0
        var carried = carriedBlocks(for: message)
        while true {
            let request: Request = carried.isEmpty
                ? .replicate(from: selfID.rawValue, message: message)
                : .replicateWithBlocks(from: selfID.rawValue, blocks: carried, message: message)
            carried = []
            let response = try await connection.send(request)
            guard case .blocksNeeded(let missing) = response else {
                throw NetStoreError(.protocolError, "\(peer.address) answered a replication message with \(response)")
            }
            if missing.isEmpty { return sent }
            if missing == previous { break }  // sent already and still lacking: give up on this one
            previous = missing
            sent += try await sendBlocks(missing, to: peer, over: connection)
        }
        logger.warning("\(peer.address) still lacks blocks after they were sent; the message is left to retransmission")
        return nil
    }

    /// A backup's answer, and an append whose entries name no block (a
    /// heartbeat, mkdir, unlink, rename...), which the peer cannot refuse for
    /// missing blocks: sent as notices, they cost the peer no reply and this
    /// server no wake-up to read one.
    static func needsNoReply(_ message: ReplicationMessage) -> Bool {
        switch message {
        case .appendResponse: true
        case .append(let append): EntryBlocks.noneReferenced(by: append.entries)
        default: false
        }
    }

    /// The verified bytes of the small files' blocks an append commits, to go with
    /// it; a block unreadable here is left to the usual request for missing blocks.
    private func carriedBlocks(for message: ReplicationMessage) -> [CarriedBlock] {
        CarriedBlocks.ids(for: message).compactMap { id in
            guard let bytes = try? sentBlocks.bytes(of: id, in: store) else { return nil }
            return CarriedBlock(id: id, data: ByteBuffer(bytes: bytes))
        }
    }

    /// Sends blocks a peer lacks, several in flight at once: one at a time, each
    /// waiting for the peer's fsync, a large file's blocks would outlast the
    /// proposal deadline of the entry that needs them.
    private func sendBlocks(_ ids: [BlockID], to peer: Peer, over connection: Connection) async throws -> Int {
        let window = 16
        let store = self.store
        let logger = self.logger
        let sentBlocks = self.sentBlocks
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var sent = 0
            var next = ids.makeIterator()
            func startNext() -> Bool {
                guard let id = next.next() else { return false }
                group.addTask {
                    guard let bytes = try? sentBlocks.bytes(of: id, in: store) else {
                        logger.error("block \(id) that \(peer.address) needs is missing or damaged here")
                        return 0
                    }
                    _ = try await connection.send(.replicaPutBlock(id: id, data: ByteBuffer(bytes: bytes)))
                    return 1
                }
                return true
            }
            for _ in 0..<window where !startNext() { break }
            while let done = try await group.next() {
                sent += done
                _ = startNext()
            }
            return sent
        }
    }

    /// An append too big for one frame, or whose small files' blocks would not
    /// all travel with it, becomes several, each a valid append.
    static func split(_ message: ReplicationMessage) -> [ReplicationMessage] {
        guard case .append(let append) = message else { return [message] }
        let budget = Limits.maxFrameSize / 2
        var parts: [ReplicationMessage] = []
        var previous = append.previous
        var current: [LogEntry] = []
        var bytes = 0
        var carried: UInt64 = 0
        for entry in append.entries {
            // Also where the small files' blocks would not all travel with one part.
            let entryCarried = CarriedBlocks.bytes(of: entry)
            if !current.isEmpty && (bytes + entry.byteCount > budget || carried + entryCarried > CarriedBlocks.byteBudget) {
                parts.append(.append(AppendEntries(term: append.term, previous: previous, entries: current, commit: append.commit)))
                previous = current.last!.position
                current = []
                bytes = 0
                carried = 0
            }
            current.append(entry)
            bytes += entry.byteCount
            carried += entryCarried
        }
        parts.append(.append(AppendEntries(term: append.term, previous: previous, entries: current, commit: append.commit)))
        return parts
    }
}
