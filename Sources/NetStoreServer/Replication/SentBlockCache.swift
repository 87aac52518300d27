import NetStoreCore
import NetStoreStorage
import Synchronization

/// The blocks about to go to the backups (a small file's, stored with its
/// proposal) or just read and hash-checked to send to one, so that the other
/// backups' senders, which need the same blocks moments later, neither read nor
/// hash them again. A block leaves once every backup's sender has taken it, or,
/// when a sender never does (its backup is down), as the oldest beyond the
/// capacity: a burst of small files does not leave the primary holding them.
final class SentBlockCache: Sendable {
    private struct Cached {
        var bytes: [UInt8]
        /// The senders yet to take it.
        var untaken: Int
    }

    private struct State {
        var blocks: [BlockID: Cached] = [:]
        /// Oldest first.
        var order: [BlockID] = []
        var total = 0

        mutating func remove(_ id: BlockID) {
            guard let cached = blocks.removeValue(forKey: id) else { return }
            total -= cached.bytes.count
            // Usually the oldest: senders take blocks in the order they were kept.
            if let index = order.firstIndex(of: id) { order.remove(at: index) }
        }
    }

    /// How many senders take each block: one per backup.
    private let takers: Int
    private let capacity: Int
    private let state = Mutex(State())

    init(takers: Int, capacityBytes: Int = 16 << 20) {
        self.takers = takers
        capacity = capacityBytes
    }

    /// The block's verified bytes, taken from here or read from `store` (then
    /// kept here for the other senders).
    func bytes(of id: BlockID, in store: Store) throws -> [UInt8] {
        if let cached = take(id) { return cached }
        let bytes = try store.getBlock(id)
        keep(id, bytes: bytes, untaken: takers - 1)
        return bytes
    }

    /// Keeps a block's bytes (known to hash to `id`) until every sender has taken it.
    func remember(_ id: BlockID, bytes: [UInt8]) {
        keep(id, bytes: bytes, untaken: takers)
    }

    /// Bytes held.
    var heldBytes: Int { state.withLock { $0.total } }

    private func take(_ id: BlockID) -> [UInt8]? {
        state.withLock { state in
            guard var cached = state.blocks[id] else { return nil }
            cached.untaken -= 1
            if cached.untaken <= 0 {
                state.remove(id)
            } else {
                state.blocks[id] = cached
            }
            return cached.bytes
        }
    }

    private func keep(_ id: BlockID, bytes: [UInt8], untaken: Int) {
        guard untaken > 0, bytes.count <= capacity else { return }
        state.withLock { state in
            if var cached = state.blocks[id] {
                // Carried again (another file with the same content): each sender takes it once more.
                cached.untaken += untaken
                state.blocks[id] = cached
                return
            }
            state.blocks[id] = Cached(bytes: bytes, untaken: untaken)
            state.order.append(id)
            state.total += bytes.count
            while state.total > capacity, let oldest = state.order.first {
                state.remove(oldest)
            }
        }
    }
}
