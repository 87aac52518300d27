import Logging
import NIOCore
import NetStoreClient
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreTLS
import Synchronization

/// Sends the blocks clients upload to the primary on to one backup while the file
/// is still being written, so that the commit, which sends a backup every block it
/// lacks before it can be acknowledged, finds them there already.
///
/// Only an optimisation: the queue is bounded (in blocks and bytes) and a block that
/// does not fit, or whose sending fails, is simply not forwarded; the commit path
/// sends it. Blocks go over a connection of their own, so the ordered replication
/// messages are never held up behind them, several in flight at once.
final class BlockForwarder: Sendable {
    struct Item: Sendable {
        var id: BlockID
        var bytes: ByteBuffer
    }

    let peer: ReplicaID
    let address: ServerAddress
    private let clusterKey: String
    private let tls: ClientTLS?
    private let logger: Logger
    private let metrics: ServerMetrics?
    private let window: Int
    private let capacityBytes: Int
    private let queue: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    /// Bytes of the blocks queued and not yet taken by the sender.
    private let queuedBytes = Mutex(0)
    /// A connection a send failed on (so it is broken): the sender replaces it before the next block.
    private let broken = Mutex<ObjectIdentifier?>(nil)
    /// The last connection failure logged, so an unreachable backup is logged once.
    private let lastFailure = Mutex<String?>(nil)

    init(peer: ReplicaID, address: ServerAddress, clusterKey: String, tls: ClientTLS?, metrics: ServerMetrics?,
         logger: Logger, capacityBlocks: Int = 32, capacityBytes: Int = 32 << 20, window: Int = 6) {
        self.peer = peer
        self.address = address
        self.clusterKey = clusterKey
        self.tls = tls
        self.metrics = metrics
        self.logger = logger
        self.window = window
        self.capacityBytes = capacityBytes
        (queue, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(capacityBlocks))
    }

    /// Queues a block for the backup; one that does not fit is dropped (and counted).
    func offer(_ id: BlockID, bytes: ByteBuffer) {
        let size = bytes.readableBytes
        let admitted = queuedBytes.withLock { queued in
            guard queued + size <= capacityBytes else { return false }
            queued += size
            return true
        }
        guard admitted else {
            metrics?.blocksForwardDropped.increment()
            return
        }
        if case .enqueued = continuation.yield(Item(id: id, bytes: bytes)) { return }
        queuedBytes.withLock { $0 -= size }
        metrics?.blocksForwardDropped.increment()
    }

    /// Sends queued blocks, `window` at a time, until cancelled.
    func run() async {
        var connection: Connection?
        // After a failed connect, blocks are dropped for a while rather than each trying again.
        var retryAt = ContinuousClock.now
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await item in queue {
                    queuedBytes.withLock { $0 -= item.bytes.readableBytes }
                    while inFlight >= window, await group.next() != nil { inFlight -= 1 }
                    if let open = connection, takeBroken(open) {
                        connection = nil
                        await open.close()
                    }
                    if connection == nil, ContinuousClock.now >= retryAt {
                        connection = await connect()
                        if connection == nil { retryAt = .now + .seconds(1) }
                    }
                    guard let open = connection else {
                        metrics?.blocksForwardDropped.increment()
                        continue
                    }
                    inFlight += 1
                    group.addTask { await self.send(item, over: open) }
                }
                await group.waitForAll()
            }
        } onCancel: {
            continuation.finish()
        }
        await connection?.close()
    }

    /// Whether a send failed on `connection`; clears the mark.
    private func takeBroken(_ connection: Connection) -> Bool {
        broken.withLock { flagged in
            defer { flagged = nil }
            return flagged == ObjectIdentifier(connection)
        }
    }

    private func send(_ item: Item, over connection: Connection) async {
        do {
            _ = try await connection.send(.replicaPutBlock(id: item.id, data: item.bytes))
            metrics?.blocksForwarded.increment()
        } catch {
            // The connection is taken for broken: the next block opens another.
            broken.withLock { $0 = ObjectIdentifier(connection) }
            metrics?.blocksForwardDropped.increment()
            logger.debug("a block was not forwarded to a backup; its commit sends it",
                         metadata: ["peer": "\(peer) \(address)", "block": "\(item.id.hex)", "error": "\(error.message)"])
        }
    }

    /// A new connection that has presented the cluster key, or nil (logged once per distinct failure).
    private func connect() async -> Connection? {
        let opened: Connection
        do {
            opened = try await Connection.connect(to: address, timeout: .seconds(2), tls: tls, logger: logger)
        } catch {
            noteFailure(error.message)
            return nil
        }
        do {
            _ = try await opened.send(.auth(token: clusterKey))
        } catch {
            await opened.close()
            noteFailure(error.message)
            return nil
        }
        lastFailure.withLock { $0 = nil }
        return opened
    }

    private func noteFailure(_ message: String) {
        if lastFailure.withLock({ last in defer { last = message }; return last != message }) {
            logger.info("cannot open the block forwarding connection; blocks go with their commit",
                        metadata: ["peer": "\(peer) \(address)", "error": "\(message)"])
        }
    }
}
