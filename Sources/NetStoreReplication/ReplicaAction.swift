/// What the I/O layer must do, in the order given (see docs/replication.md).
public enum ReplicaAction: Sendable, Hashable {
    /// Store the term and vote durably before carrying out any later action.
    case persistHardState(HardState)
    /// Drop the log from `truncatingFrom` on (if set), then append `entries`. Writes
    /// run in order and may complete later; report with `.persisted(through:)`.
    case writeLog(truncatingFrom: LogIndex?, entries: [LogEntry])
    case send(to: ReplicaID, ReplicationMessage)
    /// Send `to` a snapshot of the applied state, which is at `header.position`
    /// once every earlier `.apply` has run; the header goes as `.installSnapshot`.
    case sendSnapshot(to: ReplicaID, SnapshotHeader)
    /// Replace the state with the snapshot received with this header, durably,
    /// then report `.snapshotInstalled`. Log writes queued before it come first.
    case installSnapshot(SnapshotHeader, from: ReplicaID)
    /// Apply these committed entries to the state machine, in order.
    case apply([LogEntry])
    /// The proposal is durable on the write quorum: answer its client.
    case acknowledge(ProposalToken, LogPosition)
    case failProposal(ProposalToken, ProposalFailure)
    case roleChanged(ReplicaRole, term: Term)
    /// The answer to `.promote`.
    case promotionFinished(PromotionOutcome)
}

public enum ReplicaRole: Sendable, Hashable, CustomStringConvertible {
    case primary
    case backup(primary: ReplicaID?)
    /// Asking the others for their votes after `.promote`.
    case candidate

    public var description: String {
        switch self {
        case .primary: "primary"
        case .backup(let p): p.map { "backup of \($0)" } ?? "backup"
        case .candidate: "candidate"
        }
    }
}

public enum ProposalFailure: Sendable, Hashable, CustomStringConvertible {
    /// Not in the log; the client should retry at `primary` (if known) or another server.
    case notPrimary(primary: ReplicaID?)
    /// Not in the log: too many proposals wait already. Retry later.
    case overloaded
    /// In the log, but this replica stopped being primary before it was durable on
    /// the write quorum: it may or may not survive. The client must check.
    case outcomeUnknown

    public var description: String {
        switch self {
        case .notPrimary(let p): "not the primary" + (p.map { "; the primary is \($0)" } ?? "")
        case .overloaded: "too many mutations wait for replication; retry later"
        case .outcomeUnknown: "the primary stepped down before the mutation was replicated; it may or may not have been applied"
        }
    }
}

public enum PromotionOutcome: Sendable, Hashable {
    case promoted(term: Term)
    /// Why, in words for the admin, and the replica that is ahead if that is why
    /// (the server names its address: the admin promotes that one instead).
    case refused(reason: String, ahead: ReplicaID? = nil)
}
