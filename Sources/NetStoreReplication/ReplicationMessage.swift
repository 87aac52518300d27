/// What replicas send each other. Every message carries the sender's term: a
/// replica that sees a higher term adopts it (a primary steps down); a message
/// from a lower term is answered with the current term so its sender learns it.
/// The transport tells the receiver who sent it.
public enum ReplicationMessage: Sendable, Hashable {
    case append(AppendEntries)
    case appendResponse(AppendResponse)
    /// The primary's state at `header.position`; its body (metadata and blocks)
    /// travels beside the message and is the I/O layer's business.
    case installSnapshot(SnapshotHeader)
    case voteRequest(VoteRequest)
    case voteResponse(VoteResponse)

    public var term: Term {
        switch self {
        case .append(let m): m.term
        case .appendResponse(let m): m.term
        case .installSnapshot(let m): m.term
        case .voteRequest(let m): m.term
        case .voteResponse(let m): m.term
        }
    }
}

/// Primary to backup: "after the entry at `previous`, my log holds `entries`;
/// everything up to `commit` is durable on a majority". Empty entries make a heartbeat.
public struct AppendEntries: Sendable, Hashable {
    public var term: Term
    public var previous: LogPosition
    public var entries: [LogEntry]
    public var commit: LogIndex

    public init(term: Term, previous: LogPosition, entries: [LogEntry], commit: LogIndex) {
        self.term = term
        self.previous = previous
        self.entries = entries
        self.commit = commit
    }
}

/// Backup to primary, after an append (at once) and after a local fsync.
public struct AppendResponse: Sendable, Hashable {
    public var term: Term
    public var success: Bool
    /// On success: the backup's log matches the primary's up to here.
    /// On failure: the `previous.index` of the refused append.
    public var index: LogIndex
    /// Up to here the backup's log matches the primary's AND is fsync'd.
    public var durable: LogIndex
    /// On failure: where the backup's log may match (its last entry whose term is
    /// not above the refused `previous.term`), so the primary skips a whole
    /// diverging term in one step.
    public var hint: LogPosition

    public init(term: Term, success: Bool, index: LogIndex, durable: LogIndex, hint: LogPosition = .zero) {
        self.term = term
        self.success = success
        self.index = index
        self.durable = durable
        self.hint = hint
    }
}

/// A snapshot of the primary's applied state: every entry up to `position` included.
public struct SnapshotHeader: Sendable, Hashable {
    public var term: Term
    public var position: LogPosition

    public init(term: Term, position: LogPosition) {
        self.term = term
        self.position = position
    }
}

/// Promotion asks the other replicas whether the candidate's log holds everything
/// theirs does (Raft's vote). A pre-vote changes nothing at the receiver, so a
/// promotion that would be refused does not unseat a working primary.
public struct VoteRequest: Sendable, Hashable {
    /// The term the candidate would take.
    public var term: Term
    public var last: LogPosition
    public var preVote: Bool

    public init(term: Term, last: LogPosition, preVote: Bool) {
        self.term = term
        self.last = last
        self.preVote = preVote
    }
}

public struct VoteResponse: Sendable, Hashable {
    /// The request's term when granted, the voter's term when that is higher.
    public var term: Term
    public var granted: Bool
    public var preVote: Bool
    /// The voter's last entry, so a refused promotion can say who is ahead.
    public var voterLast: LogPosition

    public init(term: Term, granted: Bool, preVote: Bool, voterLast: LogPosition) {
        self.term = term
        self.granted = granted
        self.preVote = preVote
        self.voterLast = voterLast
    }
}
