import NetStoreReplication

/// Carries replication messages to the other servers. Sending never blocks and
/// may lose a message: the replica retransmits.
public protocol ReplicationTransport: Sendable {
    func send(_ message: ReplicationMessage, to replica: ReplicaID)
    /// How many other servers answered the last message sent to them.
    var reachablePeers: Int { get }
}
