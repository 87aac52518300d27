import NIOCore
import NetStoreCore
import NetStoreReplication
import NetStoreStorage

/// Carries replication messages to the other servers. Sending never blocks and
/// may lose a message: the replica retransmits.
public protocol ReplicationTransport: Sendable {
    func send(_ message: ReplicationMessage, to replica: ReplicaID)
    /// Streams the state `snapshot` holds (at `header.position`) to `replica`,
    /// then sends `.installSnapshot(header)`; closes the snapshot when done. May
    /// give up (the replica sends another snapshot after its timeout).
    func sendSnapshot(_ snapshot: StoreSnapshot, header: SnapshotHeader, to replica: ReplicaID)
    /// How many other servers answered the last message sent to them.
    var reachablePeers: Int { get }
    /// On the primary: a block a client has just stored here (`bytes` verified
    /// against `id`), to send on to the backups ahead of its commit. Best effort:
    /// the commit still sends every block a backup lacks.
    func forwardBlock(_ id: BlockID, bytes: ByteBuffer)
    /// On the primary: small blocks just stored here (each verified against its
    /// id) that the next append will carry, so that sending it reads none back.
    func rememberCarriedBlocks(_ blocks: [(id: BlockID, bytes: [UInt8])])
}

extension ReplicationTransport {
    public func forwardBlock(_ id: BlockID, bytes: ByteBuffer) {}
    public func rememberCarriedBlocks(_ blocks: [(id: BlockID, bytes: [UInt8])]) {}
}
