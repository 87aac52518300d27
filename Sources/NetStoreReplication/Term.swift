/// A primary's period of office. Each promotion starts a higher term; at most one
/// replica is primary in a term, so (term, index) names one log entry everywhere.
public struct Term: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }

    /// Before any primary: the term of the empty log.
    public static let zero = Term(0)
    public var next: Term { Term(rawValue + 1) }
    public static func < (a: Term, b: Term) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "t\(rawValue)" }
}
