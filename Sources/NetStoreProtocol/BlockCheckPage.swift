import NetStoreCore

/// A block that failed a server's check (CHECK_BLOCKS).
public struct BlockProblem: Sendable, Hashable {
    public enum Kind: UInt8, Sendable, Hashable {
        /// Referenced by the metadata, but its file is gone.
        case missing = 1
        /// Its file's bytes do not hash to its id.
        case corrupt = 2
    }

    public var id: BlockID
    public var kind: Kind

    public init(id: BlockID, kind: Kind) {
        self.id = id
        self.kind = kind
    }
}

/// One page of a server's block check: referenced blocks in id order, each
/// read and hashed. The next page starts after `last`.
public struct BlockCheckPage: Sendable, Hashable {
    /// How many blocks this page checked.
    public var checked: UInt32
    /// How many bytes it read.
    public var bytesChecked: UInt64
    /// The blocks that failed, in id order.
    public var problems: [BlockProblem]
    /// The last id checked (`BlockID.hole` when none): where the next page starts.
    public var last: BlockID
    /// True when no referenced block comes after `last`.
    public var isLast: Bool

    public init(checked: UInt32, bytesChecked: UInt64, problems: [BlockProblem], last: BlockID, isLast: Bool) {
        precondition(problems.count <= Int(checked), "a page reports only blocks it checked")
        self.checked = checked
        self.bytesChecked = bytesChecked
        self.problems = problems
        self.last = last
        self.isLast = isLast
    }
}
