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
    func receiveReplication(from: UInt32, _ message: ReplicationMessage) async throws -> Response {
        guard let replication, replication.isPeer(ReplicaID(from)) else {
            throw NetStoreError(.invalid, "replica r\(from) is not another server of this cluster")
        }
        if case .append(let append) = message, !append.entries.isEmpty {
            let applied = replication.status.appliedIndex
            let missing = try await storage { [store] in
                try Self.missingBlocks(of: append.entries.filter { $0.index.rawValue > applied }, in: store)
            }
            if !missing.isEmpty { return .blocksNeeded(Array(missing.prefix(Limits.maxHashesPerQuery))) }
        }
        replication.post(.receive(from: ReplicaID(from), message))
        return .blocksNeeded([])
    }

    static func missingBlocks(of entries: [LogEntry], in store: Store) throws -> [BlockID] {
        var wanted: [BlockID] = []
        var seen = Set<BlockID>()
        for entry in entries where !entry.isTermStart {
            // A malformed entry refers to nothing; it applies as an error everywhere.
            guard let mutation = try? MutationCodec.decode(entry.payload) else { continue }
            for id in mutation.referencedBlocks where seen.insert(id).inserted { wanted.append(id) }
        }
        var missing: [BlockID] = []
        var start = 0
        while start < wanted.count {
            let chunk = Array(wanted[start..<min(wanted.count, start + Limits.maxHashesPerQuery)])
            for (id, present) in zip(chunk, try store.hasBlocks(chunk)) where !present { missing.append(id) }
            start += chunk.count
        }
        return missing
    }
}
