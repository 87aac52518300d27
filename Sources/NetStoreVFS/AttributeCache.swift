import NetStoreCore
import Synchronization

/// Attributes recently seen (from replies, listings, commits), valid for the
/// mount's current timeout (short unless a watch tells it of changes made
/// elsewhere, which are then dropped). Keyed by node id.
///
/// Answers can arrive out of order: a listing the server answered before a
/// commit or a chmod from this mount may be handled after that change's
/// answer. So the cache remembers, past expiry and removal, the latest
/// attributes of each node and when this mount last changed it (a count of
/// its changes, `stamp`), and reconciles every answer with them:
/// - an answer asked for before a change made here was answered may not show
///   it, and the change's answer stands instead (unless the answer's content
///   is newer);
/// - an answer whose version (a count of content changes) is older than one
///   seen shows that newer content (version, size, mtime).
final class AttributeCache: Sendable {
    private struct Item {
        var attributes: NodeAttributes
        var expires: ContinuousClock.Instant
    }

    private struct Latest {
        var attributes: NodeAttributes
        /// The stamp of the last change made here (0: none).
        var changedHere: UInt64
    }

    private struct State {
        var items: [NodeID: Item] = [:]
        var latest: [NodeID: Latest] = [:]
        /// Counts the changes made here.
        var clock: UInt64 = 0
    }

    private let timeout: @Sendable () -> Duration
    private let state = Mutex(State())
    /// Bounds memory for huge listings; the cache is only a shortcut.
    private let capacity = 100_000

    init(timeout: @escaping @Sendable () -> Duration) {
        self.timeout = timeout
    }

    /// Take before asking the server; hand to `put` or `reconciled` with the answer.
    var stamp: UInt64 { state.withLock { $0.clock } }

    func get(_ node: NodeID) -> NodeAttributes? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let item = state.items[node] else { return nil }
            if item.expires < now {
                state.items.removeValue(forKey: node)
                return nil
            }
            return item.attributes
        }
    }

    /// Caches an answer asked for at `stamp`, reconciled; returns it as the kernel should see it.
    @discardableResult
    func put(_ attributes: NodeAttributes, asOf stamp: UInt64) -> NodeAttributes {
        let expires = ContinuousClock.now + timeout()
        return state.withLock { state in
            let current = reconcile(attributes, asOf: stamp, &state)
            cache(current, expires, &state)
            return current
        }
    }

    /// Caches the answer to a change made here; answers asked for before now give way to it.
    @discardableResult
    func changedHere(_ attributes: NodeAttributes) -> NodeAttributes {
        let expires = ContinuousClock.now + timeout()
        return state.withLock { state in
            state.clock += 1
            if state.latest.count >= capacity { state.latest.removeAll(keepingCapacity: true) }
            state.latest[attributes.id] = Latest(attributes: attributes, changedHere: state.clock)
            cache(attributes, expires, &state)
            return attributes
        }
    }

    /// Attributes held since `stamp` (a listing read earlier; `.max` for the
    /// cache's own), reconciled; caches nothing.
    func reconciled(_ attributes: NodeAttributes, asOf stamp: UInt64) -> NodeAttributes {
        state.withLock { reconcile(attributes, asOf: stamp, &$0) }
    }

    private func reconcile(_ answer: NodeAttributes, asOf stamp: UInt64, _ state: inout State) -> NodeAttributes {
        if let known = state.latest[answer.id] {
            if known.changedHere > stamp, answer.version <= known.attributes.version {
                return known.attributes
            }
            if answer.version < known.attributes.version {
                return answer.withContent(of: known.attributes)
            }
        }
        if state.latest.count >= capacity { state.latest.removeAll(keepingCapacity: true) }
        state.latest[answer.id] = Latest(attributes: answer, changedHere: state.latest[answer.id]?.changedHere ?? 0)
        return answer
    }

    private func cache(_ attributes: NodeAttributes, _ expires: ContinuousClock.Instant, _ state: inout State) {
        if state.items.count >= capacity { state.items.removeAll(keepingCapacity: true) }
        state.items[attributes.id] = Item(attributes: attributes, expires: expires)
    }

    /// Changes cached attributes in place after a change made here, keeping
    /// their expiry (nothing if none are cached).
    func update(_ node: NodeID, _ change: (inout NodeAttributes) -> Void) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard var item = state.items[node], item.expires >= now else { return }
            change(&item.attributes)
            state.items[node] = item
            state.clock += 1
            state.latest[node] = Latest(attributes: item.attributes, changedHere: state.clock)
        }
    }

    func remove(_ node: NodeID) {
        _ = state.withLock { $0.items.removeValue(forKey: node) }
    }

    /// After a change whose effect on other nodes is not known (unlink, rename: link counts, ctimes).
    func removeAll() {
        state.withLock { $0.items.removeAll() }
    }
}

extension NodeAttributes {
    /// These attributes with the content of `newer`, a later version of the
    /// same node: its version, size and modification time (the rest, such as
    /// mode and link count, stays as answered).
    func withContent(of newer: NodeAttributes) -> NodeAttributes {
        var result = self
        result.version = newer.version
        result.size = newer.size
        result.mtimeNs = newer.mtimeNs
        result.ctimeNs = max(ctimeNs, newer.ctimeNs)
        return result
    }
}
