import Logging
import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage

extension RequestDispatcher {
    static let notReplicating = NetStoreError(.notSupported, "this server is not configured with replicas: start it with --replica")

    /// Replication requests change the log: only a peer that presented the cluster key may send them.
    func requireReplica(_ session: ConnectionSession) async throws {
        guard clusterKey != nil else { throw Self.notReplicating }
        guard await session.isReplica else {
            throw NetStoreError(.accessDenied, "replication requests are accepted only from the cluster's servers (AUTH with the cluster key first)")
        }
    }

    /// A replication message from another server. An append whose entries refer to
    /// blocks this server lacks is refused with their list (the sender sends them
    /// and the append again), so an entry is never held here without its blocks.
    ///
    /// `carried` blocks (a small file's, sent with its commit) are stored first,
    /// on the same storage thread trip as the check for missing blocks.
    func receiveReplication(from: UInt32, _ message: ReplicationMessage, carrying carried: [CarriedBlock] = []) async throws -> Response {
        let replication = try peerReplication(from)
        if case .installSnapshot(let header) = message, header.position.index.rawValue > replication.status.appliedIndex {
            // The body and the blocks it refers to come first, like an append's blocks.
            let missing = try await storage { [store, now] in try replication.snapshots.prepareInstall(header, store: store, now: now) }
            if !missing.isEmpty { return .blocksNeeded(missing) }
        }
        let wanted: [BlockID]
        if case .append(let append) = message, !append.entries.isEmpty {
            let applied = replication.status.appliedIndex
            wanted = EntryBlocks.referenced(by: append.entries.filter { $0.index.rawValue > applied })
        } else {
            wanted = []
        }
        // A small file's commit carries its block: checked here and stored with the
        // entries, in their log write, with no trip to a storage thread.
        if !carried.isEmpty, let blocks = Self.carriedSmallBlocks(carried, covering: wanted) {
            replication.post(.receive(from: ReplicaID(from), message), storing: blocks, now: now)
            return .blocksNeeded([])
        }
        // Most entries name no block (mkdir, rename...): then no trip to a storage thread.
        if !wanted.isEmpty || !carried.isEmpty {
            let missing = try await storage { [store, now, logger] in
                Self.store(carried, in: store, now: now, logger: logger)
                return try Self.missing(wanted, in: store, now: now)
            }
            if !missing.isEmpty { return .blocksNeeded(Array(missing.prefix(Limits.maxHashesPerQuery))) }
        }
        replication.post(.receive(from: ReplicaID(from), message))
        return .blocksNeeded([])
    }

    /// The engine, if `from` is another server of this cluster.
    private func peerReplication(_ from: UInt32) throws -> ReplicationEngine {
        guard let replication, replication.isPeer(ReplicaID(from)) else {
            throw NetStoreError(.invalid, "replica r\(from) is not another server of this cluster")
        }
        return replication
    }

    /// How much of an offered snapshot body is staged here. A server that has
    /// applied the body's position already needs none of it: it answers "all",
    /// and the install message that follows is answered as a duplicate.
    func beginSnapshot(from: UInt32, _ offer: SnapshotOffer) async throws -> UInt64 {
        let replication = try peerReplication(from)
        if offer.position.index.rawValue <= replication.status.appliedIndex { return offer.size }
        return try await storage { try replication.snapshots.begin(offer) }
    }

    func receiveSnapshotChunk(from: UInt32, sha256: [UInt8], offset: UInt64, data: ByteBuffer) async throws -> UInt64 {
        let replication = try peerReplication(from)
        let bytes = Array(data.readableBytesView)
        return try await storage { try replication.snapshots.append(sha256: sha256, offset: offset, data: bytes) }
    }

    /// The carried blocks, checked against their ids, if they are all small and
    /// include every block in `wanted`; nil otherwise (the usual way then stores
    /// them and asks for what is missing).
    static func carriedSmallBlocks(_ carried: [CarriedBlock], covering wanted: [BlockID]) -> [(id: BlockID, bytes: [UInt8])]? {
        guard carried.allSatisfy({ $0.data.readableBytes <= Store.smallBlockLimit }) else { return nil }
        let ids = Set(carried.map(\.id))
        guard wanted.allSatisfy({ ids.contains($0) }) else { return nil }
        var blocks: [(id: BlockID, bytes: [UInt8])] = []
        blocks.reserveCapacity(carried.count)
        for block in carried {
            let bytes = Array(block.data.readableBytesView)
            guard BlockStore.id(of: bytes) == block.id else { return nil }  // damaged: the usual way reports it
            blocks.append((block.id, bytes))
        }
        return blocks
    }

    /// Stores blocks carried with a replication message, each checked against
    /// its hash, the small ones in one transaction. One that fails (a bad hash,
    /// a full disk) is left out: the check for missing blocks that follows asks
    /// the sender for it, and sending it alone reports the error.
    static func store(_ carried: [CarriedBlock], in store: Store, now: Int64, logger: Logger) {
        var small: [(id: BlockID, bytes: [UInt8])] = []
        for block in carried {
            do {
                if block.data.readableBytes <= Store.smallBlockLimit {
                    let bytes = Array(block.data.readableBytesView)
                    try bytes.withUnsafeBytes { try BlockStore.validate(block.id, bytes: $0) }
                    small.append((block.id, bytes))
                } else {
                    try block.data.withUnsafeReadableBytes { try store.putBlock(block.id, bytes: $0, now: now) }
                }
            } catch {
                logger.warning("a block carried with a replication message was not stored", metadata: [
                    "block": "\(block.id)", "error": "\(error)"])
            }
        }
        do {
            try store.putHashedSmallBlocks(small, now: now)
        } catch {
            logger.warning("blocks carried with a replication message were not stored", metadata: [
                "blocks": "\(small.count)", "error": "\(error)"])
        }
    }

    /// Those of `wanted` the store lacks, in order.
    static func missing(_ wanted: [BlockID], in store: Store, now: Int64) throws -> [BlockID] {
        var missing: [BlockID] = []
        var start = 0
        while start < wanted.count {
            let chunk = Array(wanted[start..<min(wanted.count, start + Limits.maxHashesPerQuery)])
            for (id, present) in zip(chunk, try store.hasBlocks(chunk, now: now)) where !present { missing.append(id) }
            start += chunk.count
        }
        return missing
    }
}
