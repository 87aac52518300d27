/// Opaque handle the I/O layer gives a proposal, returned in its answer.
public struct ProposalToken: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public var description: String { "p\(rawValue)" }
}

/// A client's mutation: its encoded operation (never empty) and a token for the answer.
public struct Proposal: Sendable, Hashable {
    public var payload: [UInt8]
    public var token: ProposalToken

    public init(payload: [UInt8], token: ProposalToken) {
        precondition(!payload.isEmpty, "an empty payload is reserved for the term-start entry")
        self.payload = payload
        self.token = token
    }
}

/// Everything that can happen to a replica. Time is a tick the I/O layer delivers
/// at a fixed rate; the replica never reads a clock.
public enum ReplicaEvent: Sendable, Hashable {
    /// Clients' mutations, already encoded, that arrived together: they share one
    /// log write and one message per backup (group commit). Only a primary accepts them.
    case propose([Proposal])
    case receive(from: ReplicaID, ReplicationMessage)
    case tick
    /// The log writes asked for so far are fsync'd, ending at `through` (its
    /// position, so a report that a later truncation overtook is recognised).
    case persisted(through: LogPosition)
    /// The snapshot of an `.installSnapshot` action is durable and is the state.
    case snapshotInstalled(SnapshotHeader)
    /// The state machine's applied state now includes everything up to `through`,
    /// and the log before it may be dropped (the I/O layer decides when).
    case compacted(through: LogIndex)
    /// The admin asks this replica to become primary (`netstore promote`).
    case promote
}
