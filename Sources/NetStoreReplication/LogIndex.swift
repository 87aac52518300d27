/// A position in the replicated log. Index 0 is before the first entry.
public struct LogIndex: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }

    public static let zero = LogIndex(0)
    public var next: LogIndex { LogIndex(rawValue + 1) }
    /// The index before this one; `zero` stays `zero`.
    public var previous: LogIndex { LogIndex(rawValue == 0 ? 0 : rawValue - 1) }
    public static func < (a: LogIndex, b: LogIndex) -> Bool { a.rawValue < b.rawValue }
    public static func + (a: LogIndex, n: Int) -> LogIndex { LogIndex(a.rawValue + UInt64(n)) }
    public var description: String { "#\(rawValue)" }
}

/// An entry's identity: its index and the term it was created in. Two logs that
/// hold the same position hold the same entry and the same entries before it.
public struct LogPosition: Sendable, Hashable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    public init(index: LogIndex, term: Term) {
        self.index = index
        self.term = term
    }

    public static let zero = LogPosition(index: .zero, term: .zero)

    /// Raft's "at least as up to date": a later last term wins, then a longer log.
    public func isAtLeastAsUpToDate(as other: LogPosition) -> Bool {
        term != other.term ? term > other.term : index >= other.index
    }
    public var description: String { "\(index)@\(term)" }
}
