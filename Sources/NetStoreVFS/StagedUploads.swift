import NetStoreCore
import Synchronization

/// Write-back mode's queue (docs/mount.md, "Write-back mode"): new small files
/// closed here and names removed here, journaled, waiting for the server. One
/// uploader sends them in staging order, in batches: consecutive new files, as
/// many as one request takes, or consecutive removals. While a batch is out,
/// the next one gathers, so a steady writer's changes go many at once.
///
/// Up to `maxFileBatchesInFlight` batches of new files are out at once: no two
/// make the same name (a name made again was removed between, and a removal
/// splits batches), so the server may make them in either order, and one
/// batch's transfer and hashing overlap another's replication. A batch of
/// removals goes alone, after every batch before it is settled, and the
/// batches after it wait for it. Changes count as settled in staging order:
/// the journal drops a batch's records, and `drain` returns, only once every
/// batch before it is settled too.
final class StagedUploads: Sendable {
    struct Entry: Sendable {
        var change: StagedChange
        /// The kernel's inode number and the open-file state of a file staged by
        /// this mount; nil for one recovered from a previous mount's journal.
        var inode: UInt64?
        var openFile: OpenFile?
        /// The node an unlink staged by this mount removes a name of.
        var unlinked: NodeID? = nil
    }

    fileprivate struct Name: Hashable {
        var parent: NodeID
        var name: String
    }

    /// How the uploader got on with a batch.
    enum Settled {
        /// Every file in it was made or set aside.
        case done
        /// Nothing is known to be settled (the server could not be reached):
        /// the same batch goes again, each file's EEXIST then checked against
        /// what the server has.
        case retry
    }

    /// A batch sent and not yet settled.
    fileprivate struct Sent {
        var entries: [Entry]
        var settled = false
        var isFiles: Bool { entries.first?.change.file != nil }
        var last: UInt64 { entries.last?.change.sequence ?? 0 }
    }

    fileprivate struct State {
        var pending: [Entry] = []
        /// In staging order.
        var inFlight: [Sent] = []
        var staged: Set<UInt64> = []
        /// Names with a removal not yet settled, with how many.
        var removals: [Name: Int] = [:]
        /// Nodes with an unlink not yet settled, with how many.
        var unlinked: [NodeID: Int] = [:]
        /// Directories with changes not yet settled, with how many.
        var parents: [NodeID: Int] = [:]
        var pendingBytes = 0
        var lastStaged: UInt64 = 0
        var completedThrough: UInt64 = 0
        var drainers: [(through: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var wake: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    /// Staging waits for the uploader past this much content, bounding memory.
    static let pendingByteLimit = 64 << 20

    /// Measured on `cp -r` of 95 MB of new small files (until `sync`): one
    /// batch at a time left the servers' CPUs half idle, each waiting for the
    /// next batch while the last one was replicated.
    static let maxFileBatchesInFlight = 2

    let journal: StagingJournal
    private let state = Mutex(State())

    init(journal: StagingJournal) {
        self.journal = journal
    }

    /// Journals `change` under the next sequence number and queues it; it is
    /// durable here when this returns. Returns the sequence number.
    @discardableResult
    func stage(_ change: StagedChange, inode: UInt64? = nil, openFile: OpenFile? = nil, unlinked: NodeID? = nil) throws(NetStoreError) -> UInt64 {
        let result = state.withLock { state -> Result<UInt64, NetStoreError> in
            // In the lock: journal order is queue order is sequence order.
            var change = change
            change.sequence = journal.nextSequence()
            do throws(NetStoreError) {
                try journal.append(change)
            } catch {
                return .failure(error)
            }
            state.queue(Entry(change: change, inode: inode, openFile: openFile, unlinked: unlinked))
            return .success(change.sequence)
        }
        return try result.get()
    }

    /// Queues changes a previous mount journaled (their records are on disk already).
    func requeue(_ changes: [StagedChange]) {
        state.withLock { state in
            for change in changes { state.queue(Entry(change: change, inode: nil, openFile: nil)) }
        }
    }

    /// Whether the file of `inode` is staged and not yet settled.
    func isStaged(_ inode: UInt64) -> Bool {
        state.withLock { $0.staged.contains(inode) }
    }

    /// Whether a removal of `name` in `parent` is staged and not yet settled.
    func isRemovalPending(parent: NodeID, name: String) -> Bool {
        state.withLock { !$0.removals.isEmpty && $0.removals[Name(parent: parent, name: name)] != nil }
    }

    /// Whether an unlink of a name of `node` is staged and not yet settled.
    func isUnlinkPending(of node: NodeID) -> Bool {
        state.withLock { !$0.unlinked.isEmpty && $0.unlinked[node] != nil }
    }

    /// Whether a change in directory `parent` is staged and not yet settled.
    func hasChanges(in parent: NodeID) -> Bool {
        state.withLock { $0.parents[parent] != nil }
    }

    /// Changes staged and not yet settled.
    var count: Int { state.withLock { $0.pending.count + $0.inFlight.reduce(0) { $0 + $1.entries.count } } }

    /// The last sequence number up to which every change is settled.
    var settledThrough: UInt64 { state.withLock { $0.completedThrough } }

    var isOverLimit: Bool { state.withLock { $0.pendingBytes > Self.pendingByteLimit } }

    /// Returns once every file staged before the call is made on the server or set aside.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                guard state.completedThrough < state.lastStaged, !state.stopped else { return true }
                state.drainers.append((state.lastStaged, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Sends batches with `upload` until `stop()`: a batch that is to be
    /// retried waits a growing pause (up to 5 s) and goes again, whole.
    func run(upload: @escaping @Sendable (_ batch: [Entry], _ retry: Bool) async -> Settled) async {
        await withDiscardingTaskGroup { group in
            while let batch = await nextBatch() {
                group.addTask { [self] in
                    var attempt = 0
                    while await upload(batch, attempt > 0) == .retry {
                        attempt += 1
                        if state.withLock({ $0.stopped }) { return }
                        try? await Task.sleep(for: .milliseconds(min(5_000, 50 << min(attempt, 7))))
                    }
                    settled(batch)
                }
            }
        }
    }

    /// Ends `run` after the batches under way, and releases every `drain` waiting.
    func stop() {
        let (wake, drainers) = state.withLock { state in
            state.stopped = true
            defer { state.wake = nil; state.drainers = [] }
            return (state.wake, state.drainers.map(\.continuation))
        }
        wake?.resume()
        for drainer in drainers { drainer.resume() }
    }

    /// The next files to send, as many as one request takes, once they may
    /// go (see the type's comment); nil once stopped.
    private func nextBatch() async -> [Entry]? {
        while true {
            let taken = state.withLock { state -> [Entry]?? in
                if state.stopped { return .some(nil) }
                guard state.maySend, let first = state.pending.first else { return nil }
                var count = 0
                var bytes = 0
                if first.change.file != nil {
                    for entry in state.pending {
                        guard let file = entry.change.file, count < Limits.maxFilesPerBatch,
                              bytes + file.bytes.count <= Limits.maxBatchContent else { break }
                        count += 1
                        bytes += file.bytes.count
                    }
                } else {
                    // One request removes them in order: an rmdir after the removals inside it is fine.
                    count = state.pending.prefix(Limits.maxRemovalsPerBatch).prefix { $0.change.removal != nil }.count
                }
                // A file over the batch's byte limit alone still goes, alone.
                count = max(count, 1)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                state.pendingBytes -= batch.reduce(0) { $0 + $1.change.byteCount }
                state.inFlight.append(Sent(entries: batch))
                return .some(batch)
            }
            if let taken { return taken }
            // Woken by a change staged or a batch settled.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.stopped || state.maySend { return true }
                    state.wake = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private func settled(_ batch: [Entry]) {
        guard let last = batch.last?.change.sequence else { return }
        let (through, ready, wake) = state.withLock { state -> (UInt64?, [CheckedContinuation<Void, Never>], CheckedContinuation<Void, Never>?) in
            if let index = state.inFlight.firstIndex(where: { $0.last == last }) { state.inFlight[index].settled = true }
            for entry in batch {
                if let inode = entry.inode { state.staged.remove(inode) }
                if let removal = entry.change.removal { state.removals.countDown(Name(parent: removal.parent, name: removal.name)) }
                if let node = entry.unlinked { state.unlinked.countDown(node) }
                state.parents.countDown(entry.change.parent)
            }
            // Settled in staging order: up to the first batch still out.
            var through: UInt64?
            while let first = state.inFlight.first, first.settled {
                through = first.last
                state.inFlight.removeFirst()
            }
            if let through { state.completedThrough = max(state.completedThrough, through) }
            let ready = state.drainers.filter { $0.through <= state.completedThrough }.map(\.continuation)
            state.drainers.removeAll { $0.through <= state.completedThrough }
            let wake = state.wake
            state.wake = nil
            return (through, ready, wake)
        }
        if let through { journal.completed(through: through) }
        wake?.resume()
        for continuation in ready { continuation.resume() }
    }
}

private extension StagedUploads.State {
    /// Whether the next batch may be sent now.
    var maySend: Bool {
        guard let first = pending.first else { return false }
        let out = inFlight.filter { !$0.settled }
        return out.isEmpty
            || (first.change.file != nil && out.count < StagedUploads.maxFileBatchesInFlight && out.allSatisfy(\.isFiles))
    }

    mutating func queue(_ entry: StagedUploads.Entry) {
        pending.append(entry)
        if let inode = entry.inode { staged.insert(inode) }
        if let removal = entry.change.removal {
            removals[StagedUploads.Name(parent: removal.parent, name: removal.name), default: 0] += 1
        }
        if let node = entry.unlinked { unlinked[node, default: 0] += 1 }
        parents[entry.change.parent, default: 0] += 1
        pendingBytes += entry.change.byteCount
        lastStaged = max(lastStaged, entry.change.sequence)
        let wake = wake
        self.wake = nil
        wake?.resume()
    }
}

private extension Dictionary where Value == Int {
    /// One fewer of `key` (a count of changes not yet settled); none is no entry.
    mutating func countDown(_ key: Key) {
        if let count = self[key], count > 1 { self[key] = count - 1 } else { self[key] = nil }
    }
}
