import NetStoreCore
import Synchronization

/// Names recently seen in directories (from lookups, creates and listings), and
/// directories whose every entry is known (made here, so empty when made), for
/// the same short time as attributes: a lookup the kernel sends again, or a
/// lookup of a name a new file is about to take, is answered without asking
/// the server. Namespace changes made through this mount keep it exact; a
/// change made elsewhere shows once the entry expires, as with the kernel's
/// own entry timeout.
final class EntryCache: Sendable {
    enum Answer: Equatable {
        /// The name is there, for this node.
        case node(NodeID)
        /// The name is not there.
        case absent
        /// Ask the server.
        case unknown
    }

    /// What a reply from the server is known to reflect: the local changes
    /// made before it (a reply racing with a local change is not kept).
    struct Seen: Sendable {
        var generation: UInt64
        var at: ContinuousClock.Instant
    }

    private struct Key: Hashable {
        var parent: NodeID
        var name: String
    }

    private struct Entry {
        var node: NodeID
        var expires: ContinuousClock.Instant
    }

    private struct Listing {
        var names: Set<String>
        var expires: ContinuousClock.Instant
    }

    private struct Misses {
        var count: Int
        var since: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var complete: [NodeID: Listing] = [:]
        /// Lookups that had to ask the server, per directory, within one timeout.
        var misses: [NodeID: Misses] = [:]
        /// Counts local namespace changes.
        var generation: UInt64 = 0
        /// Names a staged removal took off the server, and when: an answer
        /// asked for before then may still hold them.
        var removedOnServer: [Key: ContinuousClock.Instant] = [:]
    }

    /// Lookups in one directory that ask the server, within one timeout, before
    /// its listing is read instead (`missed`).
    static let missesBeforeListing = 4

    private let timeout: @Sendable () -> Duration
    private let state = Mutex(State())
    /// Bounds memory for huge listings; the cache is only a shortcut.
    private let capacity = 100_000

    init(timeout: @escaping @Sendable () -> Duration) {
        self.timeout = timeout
    }

    /// Take before asking the server; hand to `put` with the answer.
    var seen: Seen {
        Seen(generation: state.withLock { $0.generation }, at: .now)
    }

    func find(parent: NodeID, name: String) -> Answer {
        let now = ContinuousClock.now
        return state.withLock { state in
            let key = Key(parent: parent, name: name)
            if let entry = state.entries[key] {
                if entry.expires >= now { return .node(entry.node) }
                state.entries.removeValue(forKey: key)
            }
            guard let listing = state.complete[parent] else { return .unknown }
            if listing.expires < now {
                state.complete.removeValue(forKey: parent)
                return .unknown
            }
            return listing.names.contains(name) ? .unknown : .absent
        }
    }

    /// The server said `name` in `parent` is `node`, as of `seen`.
    func put(parent: NodeID, name: String, node: NodeID, seen: Seen) {
        let expires = seen.at + timeout()
        state.withLock { state in
            guard state.generation == seen.generation else { return }
            let key = Key(parent: parent, name: name)
            guard !Self.removedOnServer(state, key, after: seen) else { return }
            insert(&state, key, Entry(node: node, expires: expires))
        }
    }

    /// A lookup in `parent` has to ask the server. True once in a timeout, on
    /// the `missesBeforeListing`th: then reading the directory's listing costs
    /// less than the lookups that are likely to follow (a program going through
    /// its names: `stat`s, opens, `git status`).
    func missed(parent: NodeID) -> Bool {
        let now = ContinuousClock.now
        let window = timeout()
        return state.withLock { state in
            if state.misses.count >= capacity { state.misses.removeAll(keepingCapacity: true) }
            var misses = state.misses[parent] ?? Misses(count: 0, since: now)
            if misses.since + window < now { misses = Misses(count: 0, since: now) }
            misses.count += 1
            state.misses[parent] = misses
            return misses.count == Self.missesBeforeListing
        }
    }

    /// The server listed `parent`, as of `seen`: all of its names if `complete`.
    func listed(parent: NodeID, names: [(name: String, node: NodeID)], complete: Bool, seen: Seen) {
        let expires = seen.at + timeout()
        state.withLock { state in
            guard state.generation == seen.generation else { return }
            var kept: Set<String> = []
            for (name, node) in names {
                let key = Key(parent: parent, name: name)
                guard !Self.removedOnServer(state, key, after: seen) else { continue }
                insert(&state, key, Entry(node: node, expires: expires))
                kept.insert(name)
            }
            if complete { state.complete[parent] = Listing(names: kept, expires: expires) }
        }
    }

    /// Every name in `directory` with its node, when all are known.
    func knownListing(_ directory: NodeID) -> [(name: String, node: NodeID)]? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let listing = state.complete[directory], listing.expires >= now else { return nil }
            var known: [(name: String, node: NodeID)] = []
            known.reserveCapacity(listing.names.count)
            for name in listing.names {
                guard let entry = state.entries[Key(parent: directory, name: name)], entry.expires >= now else { return nil }
                known.append((name, entry.node))
            }
            return known
        }
    }

    /// Whether every name in `directory` is known and there are none.
    func isKnownEmpty(_ directory: NodeID) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let listing = state.complete[directory], listing.expires >= now else { return false }
            return listing.names.isEmpty
        }
    }

    /// A removal staged here (already `removed`) reached the server. Not a
    /// local change (that was the removal itself), so answers on their way
    /// are kept, less this name if they were asked for before now.
    func removedOnServer(parent: NodeID, name: String) {
        let now = ContinuousClock.now
        let window = timeout()
        state.withLock { state in
            let key = Key(parent: parent, name: name)
            state.entries.removeValue(forKey: key)
            state.complete[parent]?.names.remove(name)
            if state.removedOnServer.count >= capacity {
                state.removedOnServer = state.removedOnServer.filter { $0.value + window >= now }
            }
            state.removedOnServer[key] = now
        }
    }

    /// This mount made `name` in `parent` (create, mkdir, link, ...).
    func added(parent: NodeID, name: String, node: NodeID) {
        let expires = ContinuousClock.now + timeout()
        state.withLock { state in
            state.generation += 1
            insert(&state, Key(parent: parent, name: name), Entry(node: node, expires: expires))
            state.complete[parent]?.names.insert(name)
        }
    }

    /// This mount made directory `node`: it has no entries yet.
    func madeDirectory(_ node: NodeID) {
        let expires = ContinuousClock.now + timeout()
        state.withLock { $0.complete[node] = Listing(names: [], expires: expires) }
    }

    /// `name` in `parent` is gone (unlink, rmdir, renamed away). Returns the node it named, if known.
    @discardableResult
    func removed(parent: NodeID, name: String) -> NodeID? {
        state.withLock { state in
            state.generation += 1
            state.complete[parent]?.names.remove(name)
            return state.entries.removeValue(forKey: Key(parent: parent, name: name))?.node
        }
    }

    /// `name` in `parent` now names something not known here (the target of a rename).
    func replaced(parent: NodeID, name: String) {
        state.withLock { state in
            state.generation += 1
            state.entries.removeValue(forKey: Key(parent: parent, name: name))
            state.complete[parent]?.names.insert(name)
        }
    }

    /// A change in `parent` failed or had an unknown effect: ask the server about its names.
    func forget(parent: NodeID, name: String) {
        state.withLock { state in
            state.generation += 1
            state.complete.removeValue(forKey: parent)
            state.entries.removeValue(forKey: Key(parent: parent, name: name))
        }
    }

    /// `name` in `parent` changed elsewhere (a change notice): ask the server
    /// again, and keep no answer that was on its way meanwhile.
    func changedElsewhere(parent: NodeID, name: String) {
        state.withLock { state in
            state.generation += 1
            state.complete.removeValue(forKey: parent)
            state.entries.removeValue(forKey: Key(parent: parent, name: name))
        }
    }

    /// Anything may have changed elsewhere: forgets every name and returns
    /// those still valid (the kernel may hold them too).
    func forgetAll() -> [(parent: NodeID, name: String)] {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.generation += 1
            defer { state.entries.removeAll(); state.complete.removeAll() }
            return state.entries.filter { $0.value.expires >= now }.map { ($0.key.parent, $0.key.name) }
        }
    }

    private func insert(_ state: inout State, _ key: Key, _ entry: Entry) {
        if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
        state.entries[key] = entry
    }

    /// Whether `key` was removed on the server after an answer as of `seen` was asked for.
    private static func removedOnServer(_ state: State, _ key: Key, after seen: Seen) -> Bool {
        guard !state.removedOnServer.isEmpty, let at = state.removedOnServer[key] else { return false }
        return at >= seen.at
    }
}
