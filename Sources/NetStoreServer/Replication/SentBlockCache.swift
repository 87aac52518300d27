import NetStoreCore
import NetStoreStorage
import Synchronization

/// The blocks most recently read (and hash-checked) to send to a backup, so the
/// other backups' senders, which need the same blocks moments later, neither read
/// nor hash them again. Bounded in bytes; the oldest go first.
final class SentBlockCache: Sendable {
    private struct State {
        var bytes: [BlockID: [UInt8]] = [:]
        var order: [BlockID] = []
        var total = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacityBytes: Int = 64 << 20) {
        capacity = capacityBytes
    }

    /// The block's verified bytes, from here or from `store` (then kept here).
    func bytes(of id: BlockID, in store: Store) throws -> [UInt8] {
        if let cached = state.withLock({ $0.bytes[id] }) { return cached }
        let bytes = try store.getBlock(id)
        remember(id, bytes: bytes)
        return bytes
    }

    /// Keeps a block's bytes (known to hash to `id`), dropping the oldest beyond the capacity.
    func remember(_ id: BlockID, bytes: [UInt8]) {
        state.withLock { state in
            guard state.bytes[id] == nil, bytes.count <= capacity else { return }
            state.bytes[id] = bytes
            state.order.append(id)
            state.total += bytes.count
            while state.total > capacity, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                state.total -= state.bytes.removeValue(forKey: oldest)?.count ?? 0
            }
        }
    }
}
