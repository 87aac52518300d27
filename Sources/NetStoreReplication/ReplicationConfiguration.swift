/// The cluster and the limits every replica runs with. All replicas must agree on it.
public struct ReplicationConfiguration: Sendable, Hashable {
    /// Every server of the cluster, this one included.
    public var replicas: [ReplicaID]
    /// On how many replicas (the primary counted) a mutation must be durable before
    /// its client is answered: 1...replicas.count. Below a majority an answered
    /// mutation can be lost when a backup is promoted; the default is a majority.
    public var writeQuorum: Int
    /// At most this many entries in one append message.
    public var maxEntriesPerMessage: Int
    /// At most this many entry bytes sent to one backup and not yet confirmed received.
    public var maxBytesInFlight: Int
    /// Proposals the primary holds unanswered before it refuses new ones.
    public var maxPendingProposals: Int
    /// The primary sends an append (empty if nothing is new) to each backup this often.
    public var heartbeatTicks: Int
    /// A backup that has not answered for this long is assumed to have lost what was
    /// sent; the primary probes it again from what it confirmed.
    public var retransmitTicks: Int
    /// A snapshot unanswered for this long is sent again (a snapshot takes long to copy).
    public var snapshotTimeoutTicks: Int
    /// A promotion that has not gathered a majority by then is refused.
    public var promotionTimeoutTicks: Int

    public init(
        replicas: [ReplicaID],
        writeQuorum: Int? = nil,
        maxEntriesPerMessage: Int = 64,
        maxBytesInFlight: Int = 8 << 20,
        maxPendingProposals: Int = 4096,
        heartbeatTicks: Int = 2,
        retransmitTicks: Int = 6,
        snapshotTimeoutTicks: Int = 300,
        promotionTimeoutTicks: Int = 10
    ) {
        precondition(!replicas.isEmpty && Set(replicas).count == replicas.count, "replicas must be distinct and not empty")
        let quorum = writeQuorum ?? (replicas.count / 2 + 1)
        precondition((1...replicas.count).contains(quorum), "the write quorum must be 1...\(replicas.count)")
        precondition(maxEntriesPerMessage > 0 && maxBytesInFlight > 0 && maxPendingProposals > 0)
        precondition(heartbeatTicks > 0 && retransmitTicks >= heartbeatTicks && snapshotTimeoutTicks > 0 && promotionTimeoutTicks > 0)
        self.replicas = replicas
        self.writeQuorum = quorum
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxBytesInFlight = maxBytesInFlight
        self.maxPendingProposals = maxPendingProposals
        self.heartbeatTicks = heartbeatTicks
        self.retransmitTicks = retransmitTicks
        self.snapshotTimeoutTicks = snapshotTimeoutTicks
        self.promotionTimeoutTicks = promotionTimeoutTicks
    }

    /// How many replicas make a majority: commits and promotions need this many.
    public var majority: Int { replicas.count / 2 + 1 }
}
