/// What must survive a crash besides the log: the term and the vote in it.
///
/// The commit index is not kept: the state machine stores its applied index with
/// its own changes, that is a lower bound of the commit, and the primary teaches
/// the rest.
public struct HardState: Sendable, Hashable {
    public var term: Term
    /// Whom this replica voted for in `term`; one vote per term keeps promotions
    /// from making two primaries of one term.
    public var votedFor: ReplicaID?

    public init(term: Term = .zero, votedFor: ReplicaID? = nil) {
        self.term = term
        self.votedFor = votedFor
    }
}

/// Everything a replica finds on its disk when it (re)starts.
public struct PersistentState: Sendable, Hashable {
    public var hardState: HardState
    /// The last entry folded into the state machine's stored state and dropped
    /// from the log (by compaction or a snapshot install); `.zero` if none.
    public var logStart: LogPosition
    /// The durable entries after `logStart`, in order, without gaps.
    public var entries: [LogEntry]
    /// The last entry the state machine has applied (stored with its changes).
    public var applied: LogIndex

    public init(hardState: HardState = HardState(), logStart: LogPosition = .zero, entries: [LogEntry] = [], applied: LogIndex = .zero) {
        self.hardState = hardState
        self.logStart = logStart
        self.entries = entries
        self.applied = applied
    }

    /// A new replica with an empty disk.
    public static let empty = PersistentState()
}
