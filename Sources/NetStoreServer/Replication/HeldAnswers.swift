import NetStoreReplication

/// A backup's successful answers to appends, held within one pass of the engine
/// (until its next log write or the end of its events) so that an answer a later
/// one supersedes is never sent.
///
/// A backup answers an append at once (what matches) and again once its log
/// write is durable. The engine writes the log in the same pass, so without this
/// every append cost two messages back, and the primary a pass for the first
/// that told it nothing durable. A later success of the same term says at least
/// as much (the primary keeps the highest match it heard), so only the last is
/// sent; a refusal, or an answer of another term, goes out in its place in order.
struct HeldAnswers {
    private var held: [ReplicaID: AppendResponse] = [:]

    var isEmpty: Bool { held.isEmpty }

    /// Holds `action` if it is a success answer, returning what must go out first
    /// (an earlier answer of another term); nil if `action` is not one to hold.
    mutating func hold(_ action: ReplicaAction) -> [ReplicaAction]? {
        guard case .send(let to, .appendResponse(let response)) = action, response.success else { return nil }
        var first: [ReplicaAction] = []
        if let earlier = held[to], earlier.term != response.term {
            first.append(.send(to: to, .appendResponse(earlier)))
        }
        held[to] = response
        return first
    }

    /// The held answer to `peer`, to go out before another message to it.
    mutating func release(to peer: ReplicaID) -> [ReplicaAction] {
        guard let response = held.removeValue(forKey: peer) else { return [] }
        return [.send(to: peer, .appendResponse(response))]
    }

    /// Every held answer, in peer order.
    mutating func releaseAll() -> [ReplicaAction] {
        defer { held = [:] }
        return held.sorted { $0.key.rawValue < $1.key.rawValue }.map { .send(to: $0.key, .appendResponse($0.value)) }
    }
}
