import NetStoreCore
import Synchronization

/// Attributes recently seen (from replies, listings, commits), valid for the
/// mount's current timeout (short unless a watch tells it of changes made
/// elsewhere, which are then dropped). Keyed by node id.
///
/// Answers can arrive out of order: a listing the server answered before a
/// commit or a chmod from this mount may be handled after that change's
/// answer. So the cache remembers, past expiry and removal, the newest
/// content seen of each node and the last change this mount made to it (when,
/// as a count of its changes, `stamp`), and reconciles every answer with them:
/// - an answer asked for before a change made here was answered may not show
///   it, and the change's answer stands instead (unless the answer's content
///   is newer);
/// - an answer whose version (a count of content changes) is older than one
///   seen shows that newer content (version, size, mtime).
///
/// A change made to a node that no answer here describes (a name of it
/// removed: its link count and ctime) outdates the answers about it asked
/// before: they are not cached, and the mount asks again (`isOutdated`).
final class AttributeCache: Sendable {
    private struct Item {
        var attributes: NodeAttributes
        var expires: ContinuousClock.Instant
    }

    private struct Change {
        /// The clock when its answer arrived.
        var stamp: UInt64
        var attributes: NodeAttributes
    }

    private struct State {
        var items: [NodeID: Item] = [:]
        /// The newest content seen of each node (small: one per node listed).
        var content: [NodeID: NodeContent] = [:]
        /// The last change made here to each node.
        var changes: [NodeID: Change] = [:]
        /// When each node's answers were last outdated (the clock then).
        var outdated: [NodeID: UInt64] = [:]
        /// When every node's were (`removeAll`).
        var allOutdated: UInt64 = 0
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
            if state.allOutdated <= stamp, state.outdated[attributes.id, default: 0] <= stamp { cache(current, expires, &state) }
            return current
        }
    }

    /// A change was made to `node` that the answers about it asked for until
    /// now may not show, and that no answer here describes: drops them.
    func outdate(_ node: NodeID) {
        state.withLock { state in
            state.clock += 1
            // Forgetting the other nodes' marks outdates every answer asked before.
            if state.outdated.count >= capacity { state.allOutdated = state.clock }
            keep(state.clock, for: node, in: &state.outdated)
            state.items.removeValue(forKey: node)
        }
    }

    /// Whether an answer about `node` asked for at `stamp` may be older than
    /// a change `outdate` was told of.
    func isOutdated(_ node: NodeID, asOf stamp: UInt64) -> Bool {
        state.withLock { $0.outdated[node, default: 0] > stamp }
    }

    /// Caches the answer to a change made here; answers asked for before now give way to it.
    @discardableResult
    func changedHere(_ attributes: NodeAttributes) -> NodeAttributes {
        let expires = ContinuousClock.now + timeout()
        return state.withLock { state in
            recordChange(attributes, &state)
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
        var result = answer
        if let change = state.changes[answer.id], change.stamp > stamp, answer.version <= change.attributes.version {
            result = change.attributes
        }
        if let newer = noteContent(result, &state) { result = newer.applied(to: result) }
        return result
    }

    private func recordChange(_ attributes: NodeAttributes, _ state: inout State) {
        state.clock += 1
        keep(Change(stamp: state.clock, attributes: attributes), for: attributes.id, in: &state.changes)
        _ = noteContent(attributes, &state)
    }

    /// Records the content of `attributes` unless newer content of the node
    /// was seen; returns that newer content.
    private func noteContent(_ attributes: NodeAttributes, _ state: inout State) -> NodeContent? {
        if let seen = state.content[attributes.id], seen.version > attributes.version { return seen }
        keep(NodeContent(attributes), for: attributes.id, in: &state.content)
        return nil
    }

    private func cache(_ attributes: NodeAttributes, _ expires: ContinuousClock.Instant, _ state: inout State) {
        keep(Item(attributes: attributes, expires: expires), for: attributes.id, in: &state.items)
    }

    /// Stores `value`, emptying `table` first when it is full.
    private func keep<Value>(_ value: Value, for node: NodeID, in table: inout [NodeID: Value]) {
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        table[node] = value
    }

    /// Changes cached attributes in place after a change made here, keeping
    /// their expiry (nothing if none are cached).
    func update(_ node: NodeID, _ change: (inout NodeAttributes) -> Void) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard var item = state.items[node], item.expires >= now else { return }
            change(&item.attributes)
            state.items[node] = item
            recordChange(item.attributes, &state)
        }
    }

    func remove(_ node: NodeID) {
        _ = state.withLock { $0.items.removeValue(forKey: node) }
    }

    /// After a change whose effect on other nodes is not known (unlink, rename:
    /// link counts, ctimes); answers asked for before it are not cached either.
    func removeAll() {
        state.withLock { state in
            state.clock += 1
            state.allOutdated = state.clock
            state.items.removeAll()
        }
    }
}

/// What a node's version says of it: its content, and when that changed.
private struct NodeContent {
    var version: UInt64
    var size: UInt64
    var mtimeNs: Int64
    var ctimeNs: Int64

    init(_ attributes: NodeAttributes) {
        version = attributes.version
        size = attributes.size
        mtimeNs = attributes.mtimeNs
        ctimeNs = attributes.ctimeNs
    }

    /// `attributes` with this content (the rest, such as mode and link count, stays).
    func applied(to attributes: NodeAttributes) -> NodeAttributes {
        var result = attributes
        result.version = version
        result.size = size
        result.mtimeNs = mtimeNs
        result.ctimeNs = max(attributes.ctimeNs, ctimeNs)
        return result
    }
}

extension NodeAttributes {
    /// These attributes with the content of `newer`, a later version of the
    /// same node: its version, size and modification time (the rest, such as
    /// mode and link count, stays as answered).
    func withContent(of newer: NodeAttributes) -> NodeAttributes {
        NodeContent(newer).applied(to: self)
    }
}
