import NetStoreCore

/// Where mutations go: applied to the local store at once, or replicated first
/// and applied once committed. Either way the caller gets the operation's result,
/// or its error, after it is applied.
public protocol MutationSubmitter: Sendable {
    func submit(_ operation: Mutation) async throws -> MutationResult
    /// As `submit(_:)`, for a request of connection `origin` (its change
    /// notices skip that connection: docs/protocol.md, "Change notices").
    func submit(_ operation: Mutation, origin: UInt64?) async throws -> MutationResult
    /// As `submit(_:origin:)`, for an operation that refers to small blocks not
    /// stored yet (ids computed from these bytes): they are stored before it is
    /// applied, with it where possible (replicated: in its log write), so a small
    /// file costs one transaction instead of two.
    func submit(_ operation: Mutation, origin: UInt64?, storing blocks: [(id: BlockID, bytes: [UInt8])],
                now: Int64) async throws -> MutationResult
}

extension MutationSubmitter {
    /// A submitter that sends no change notices has no use for the origin.
    public func submit(_ operation: Mutation, origin: UInt64?) async throws -> MutationResult {
        try await submit(operation)
    }
}

/// Applies each operation to the store directly, on the caller's thread: a single
/// server with no log (tests, tools).
public struct LocalSubmitter: MutationSubmitter {
    public let store: Store

    public init(store: Store) { self.store = store }

    public func submit(_ operation: Mutation) async throws -> MutationResult {
        try store.apply(operation)
    }

    public func submit(_ operation: Mutation, origin: UInt64?, storing blocks: [(id: BlockID, bytes: [UInt8])],
                       now: Int64) async throws -> MutationResult {
        try store.putHashedSmallBlocks(blocks, now: now)
        return try store.apply(operation)
    }
}
