/// One operation in the replicated log.
///
/// The payload is the encoded operation, opaque to replication; it carries every
/// value the primary chose, so applying the same entries gives the same state.
/// An empty payload is the marker a new primary appends at the start of its term
/// (it lets earlier entries commit); the state machine skips it.
public struct LogEntry: Sendable, Hashable, CustomStringConvertible {
    public var term: Term
    public var index: LogIndex
    public var payload: [UInt8]

    public init(term: Term, index: LogIndex, payload: [UInt8]) {
        self.term = term
        self.index = index
        self.payload = payload
    }

    public var position: LogPosition { LogPosition(index: index, term: term) }
    public var isTermStart: Bool { payload.isEmpty }
    /// What the entry counts for against `ReplicationConfiguration.maxBytesInFlight`.
    public var byteCount: Int { payload.count + 16 }
    public var description: String { "\(index)@\(term)(\(payload.count)B)" }
}
