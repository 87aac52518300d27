import NetStoreCore
import Synchronization

/// Attributes recently seen (from replies, listings, commits), valid for the
/// mount's current timeout (short unless a watch tells it of changes made
/// elsewhere, which are then dropped). Keyed by node id.
final class AttributeCache: Sendable {
    private struct Item {
        var attributes: NodeAttributes
        var expires: ContinuousClock.Instant
    }

    private let timeout: @Sendable () -> Duration
    private let items = Mutex<[NodeID: Item]>([:])
    /// Bounds memory for huge listings; the cache is only a shortcut.
    private let capacity = 100_000

    init(timeout: @escaping @Sendable () -> Duration) {
        self.timeout = timeout
    }

    func get(_ node: NodeID) -> NodeAttributes? {
        let now = ContinuousClock.now
        return items.withLock { items in
            guard let item = items[node] else { return nil }
            if item.expires < now {
                items.removeValue(forKey: node)
                return nil
            }
            return item.attributes
        }
    }

    func put(_ attributes: NodeAttributes) {
        let expires = ContinuousClock.now + timeout()
        items.withLock { items in
            if items.count >= capacity { items.removeAll(keepingCapacity: true) }
            items[attributes.id] = Item(attributes: attributes, expires: expires)
        }
    }

    /// Changes cached attributes in place, keeping their expiry (nothing if none are cached).
    func update(_ node: NodeID, _ change: (inout NodeAttributes) -> Void) {
        let now = ContinuousClock.now
        items.withLock { items in
            guard var item = items[node], item.expires >= now else { return }
            change(&item.attributes)
            items[node] = item
        }
    }

    func remove(_ node: NodeID) {
        _ = items.withLock { $0.removeValue(forKey: node) }
    }

    /// After a change whose effect on other nodes is not known (unlink, rename: link counts, ctimes).
    func removeAll() {
        items.withLock { $0.removeAll() }
    }
}
