import NetStoreClient
import NetStoreCore
import Synchronization

/// An open directory: its listing, read from the server page by page as the
/// kernel asks for more (or whole from the mount's caches). Offsets are
/// positions in that listing: 1 is ".", 2 is "..", and entry `i` (from 0) is
/// `i + 3`. Reading from offset 0 again (rewinddir) starts a fresh listing.
final class DirectoryHandle: Sendable {
    struct State {
        var entries: [DirectoryEntry] = []
        var cookie: UInt64 = 0
        var complete = false
        /// Whether `takeWholeListing` handed out this listing.
        var taken = false
        /// Whether the listing came from the mount's caches.
        var cached = false
        /// What the oldest page fetched reflects (nil before the first fetch):
        /// of the names, and of the attributes (the attribute cache's stamp).
        var seen: EntryCache.Seen?
        var stamp: UInt64?
    }

    let inode: UInt64
    let node: NodeID
    let lock = AsyncLock()
    let state = Mutex(State())

    init(inode: UInt64, node: NodeID) {
        self.inode = inode
        self.node = node
    }

    /// Whether the listing came from the mount's caches (its entries are not news).
    var isCached: Bool { state.withLock { $0.cached } }

    /// The whole listing, once, when every page of it has been read.
    func takeWholeListing() -> [DirectoryEntry]? {
        state.withLock { state in
            guard state.complete, !state.taken else { return nil }
            state.taken = true
            return state.entries
        }
    }

    /// Entries (not "." and "..") at positions `from...`, at most `limit`,
    /// fetching pages as needed, and what the listing's oldest page reflects
    /// (`seen` and `stamp`, taken before this call, for a first page fetched now).
    /// A restart with `known` (the whole listing, from this mount's caches)
    /// takes it instead of asking the server.
    func entries(
        from index: Int, limit: Int, client: NetStoreClient, restart: Bool, known: [DirectoryEntry]? = nil,
        seen: EntryCache.Seen, stamp: UInt64
    ) async throws(NetStoreError) -> (entries: [DirectoryEntry], first: Int, seen: EntryCache.Seen, stamp: UInt64) {
        try await lock.run { () async throws(NetStoreError) -> ([DirectoryEntry], Int, EntryCache.Seen, UInt64) in
            if restart {
                // A listing from the caches is not handed out to be recorded again.
                let fresh = known.map { State(entries: $0, complete: true, taken: true, cached: true, seen: seen, stamp: stamp) } ?? State()
                state.withLock { $0 = fresh }
            }
            while true {
                let current = state.withLock { $0 }
                if current.complete || current.entries.count >= index + limit {
                    let lower = min(index, current.entries.count)
                    let upper = min(index + limit, current.entries.count)
                    return (Array(current.entries[lower..<upper]), lower, current.seen ?? seen, current.stamp ?? stamp)
                }
                let page = try await client.readdir(node, after: current.cookie)
                state.withLock { state in
                    if state.seen == nil { state.seen = seen }
                    if state.stamp == nil { state.stamp = stamp }
                    state.entries += page.entries
                    if let last = page.entries.last { state.cookie = last.cookie }
                    state.complete = page.isLast || page.entries.isEmpty
                }
            }
        }
    }
}
