import NetStoreCore
import Synchronization

/// Attributes recently seen (from replies, listings, commits), valid for the
/// mount's current timeout (short unless a watch tells it of changes made
/// elsewhere, which are then dropped). Keyed by node id.
///
/// Answers can arrive out of order: a listing the server answered before a
/// commit from this mount may be handled after the commit's answer. So the
/// newest content seen of each node (its version, size and times) outlives
/// expiry and removal, and an answer with an older version shows that content
/// instead of its own.
final class AttributeCache: Sendable {
    private struct Item {
        var attributes: NodeAttributes
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var items: [NodeID: Item] = [:]
        var newestContent: [NodeID: NodeAttributes] = [:]
    }

    private let timeout: @Sendable () -> Duration
    private let state = Mutex(State())
    /// Bounds memory for huge listings; the cache is only a shortcut.
    private let capacity = 100_000

    init(timeout: @escaping @Sendable () -> Duration) {
        self.timeout = timeout
    }

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

    /// Caches `attributes` from a server answer and returns them as the kernel
    /// should see them: with the newest content seen of the node, when the
    /// answer's is older.
    @discardableResult
    func put(_ attributes: NodeAttributes) -> NodeAttributes {
        let expires = ContinuousClock.now + timeout()
        return state.withLock { state in
            if state.items.count >= capacity { state.items.removeAll(keepingCapacity: true) }
            let current = newest(attributes, &state)
            state.items[current.id] = Item(attributes: current, expires: expires)
            return current
        }
    }

    /// `attributes` (from a listing held since an earlier answer) with the
    /// newest content seen of the node, when theirs is older; caches nothing.
    func newest(_ attributes: NodeAttributes) -> NodeAttributes {
        state.withLock { newest(attributes, &$0) }
    }

    private func newest(_ attributes: NodeAttributes, _ state: inout State) -> NodeAttributes {
        if let seen = state.newestContent[attributes.id], seen.version > attributes.version {
            return attributes.withContent(of: seen)
        }
        if state.newestContent.count >= capacity { state.newestContent.removeAll(keepingCapacity: true) }
        state.newestContent[attributes.id] = attributes
        return attributes
    }

    /// Changes cached attributes in place, keeping their expiry (nothing if none are cached).
    func update(_ node: NodeID, _ change: (inout NodeAttributes) -> Void) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard var item = state.items[node], item.expires >= now else { return }
            change(&item.attributes)
            state.items[node] = item
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
