import NetStoreReplication
import Testing

/// A simulated cluster driven by hand, one readable step at a time, for scenario
/// tests. The same safety checks as the random simulation run underneath.
struct ScenarioHarness {
    var cluster: SimulatedCluster
    /// Replicas cut off from the network: what they send or are sent is lost.
    var isolated: Set<ReplicaID> = []
    var nextToken: UInt64 = 1
    let r1 = ReplicaID(1), r2 = ReplicaID(2), r3 = ReplicaID(3)

    init(writeQuorum: Int? = nil, replicas: Int = 3, maxEntriesPerMessage: Int = 4) {
        let configuration = ReplicationConfiguration(
            replicas: (1...replicas).map { ReplicaID(UInt32($0)) }, writeQuorum: writeQuorum,
            maxEntriesPerMessage: maxEntriesPerMessage, maxBytesInFlight: 1000, heartbeatTicks: 2, retransmitTicks: 6,
            snapshotTimeoutTicks: 12, promotionTimeoutTicks: 8)
        cluster = SimulatedCluster(configuration: configuration)
        cluster.traceLimit = 400
    }

    /// Promotes `id` and lets the cluster settle.
    mutating func promote(_ id: ReplicaID) throws -> PromotionOutcome? {
        let before = cluster.promotionOutcomes.count
        try cluster.handle(id, .promote)
        try settle()
        for _ in 0..<10 where cluster.promotionOutcomes.count == before {
            try tick()
        }
        return cluster.promotionOutcomes.dropFirst(before).first { $0.0 == id }?.1
    }

    /// Proposes one payload per name at `id`; returns the tokens.
    @discardableResult
    mutating func propose(at id: ReplicaID, _ names: [String]) throws -> [ProposalToken] {
        let first = nextToken
        nextToken += UInt64(names.count)
        try cluster.propose(at: id, names.map { Array($0.utf8) }, firstToken: first)
        return (0..<names.count).map { ProposalToken(first + UInt64($0)) }
    }

    /// Delivers every message and syncs every disk until nothing moves.
    mutating func settle(syncing: Set<ReplicaID>? = nil) throws {
        for _ in 0..<1000 {
            var moved = false
            while !cluster.network.isEmpty {
                let envelope = cluster.network[0]
                if isolated.contains(envelope.from) || isolated.contains(envelope.to) {
                    cluster.drop(at: 0)
                } else {
                    try cluster.deliver(at: 0)
                }
                moved = true
            }
            for id in cluster.ids where syncing?.contains(id) ?? true {
                if !cluster.nodes[id]!.disk.queued.isEmpty, cluster.isUp(id) {
                    try cluster.fsync(id)
                    moved = true
                }
            }
            if !moved { return }
        }
        Issue.record("the cluster did not settle")
    }

    /// Delivers (or, for isolated replicas, drops) every message, syncing nothing,
    /// until none is left or `stop` holds.
    mutating func deliverAll(until stop: (SimulatedCluster) -> Bool = { _ in false }) throws {
        while !cluster.network.isEmpty, !stop(cluster) {
            let envelope = cluster.network[0]
            if isolated.contains(envelope.from) || isolated.contains(envelope.to) {
                cluster.drop(at: 0)
            } else {
                try cluster.deliver(at: 0)
            }
        }
    }

    /// Every replica that is up ticks `count` times, settling after each.
    mutating func tick(_ count: Int = 1, syncing: Set<ReplicaID>? = nil) throws {
        for _ in 0..<count {
            for id in cluster.ids { try cluster.handle(id, .tick) }
            try settle(syncing: syncing)
        }
    }

    func isAcknowledged(_ token: ProposalToken) -> Bool { cluster.answered[token] != nil }
    func failure(_ token: ProposalToken) -> ProposalFailure? { cluster.failures[token] }
    var transcript: String { cluster.trace.joined(separator: "\n") }

    func replica(_ id: ReplicaID) -> Replica { cluster.replica(id)! }
    func applied(_ id: ReplicaID) -> LogIndex { cluster.nodes[id]!.disk.applied }
    func digest(_ id: ReplicaID) -> UInt64 { cluster.nodes[id]!.disk.digest }
}
