import NetStoreCore
import Synchronization

/// Write-back mode's queue (docs/mount.md, "Write-back mode"): new small files
/// closed here and names removed here, journaled, waiting for the server. One
/// uploader sends them in staging order, a batch at a time: consecutive new
/// files, as many as one request takes, or consecutive removals. While a batch
/// is out, the next one gathers, so a steady writer's changes go many at once.
final class StagedUploads: Sendable {
    struct Entry: Sendable {
        var change: StagedChange
        /// The kernel's inode number and the open-file state of a file staged by
        /// this mount; nil for one recovered from a previous mount's journal.
        var inode: UInt64?
        var openFile: OpenFile?
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

    fileprivate struct State {
        var pending: [Entry] = []
        var inFlight: [Entry] = []
        var staged: Set<UInt64> = []
        /// Names with a removal not yet settled, with how many.
        var removals: [Name: Int] = [:]
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

    let journal: StagingJournal
    private let state = Mutex(State())

    init(journal: StagingJournal) {
        self.journal = journal
    }

    /// Journals `change` under the next sequence number and queues it; it is
    /// durable here when this returns. Returns the sequence number.
    @discardableResult
    func stage(_ change: StagedChange, inode: UInt64? = nil, openFile: OpenFile? = nil) throws(NetStoreError) -> UInt64 {
        let result = state.withLock { state -> Result<UInt64, NetStoreError> in
            // In the lock: journal order is queue order is sequence order.
            var change = change
            change.sequence = journal.nextSequence()
            do throws(NetStoreError) {
                try journal.append(change)
            } catch {
                return .failure(error)
            }
            state.queue(Entry(change: change, inode: inode, openFile: openFile))
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

    /// Whether a change in directory `parent` is staged and not yet settled.
    func hasChanges(in parent: NodeID) -> Bool {
        state.withLock { $0.parents[parent] != nil }
    }

    /// Changes staged and not yet settled.
    var count: Int { state.withLock { $0.pending.count + $0.inFlight.count } }

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
    func run(upload: @Sendable (_ batch: [Entry], _ retry: Bool) async -> Settled) async {
        while let batch = await nextBatch() {
            var attempt = 0
            while await upload(batch, attempt > 0) == .retry {
                attempt += 1
                if state.withLock({ $0.stopped }) { return }
                try? await Task.sleep(for: .milliseconds(min(5_000, 50 << min(attempt, 7))))
            }
            settled(batch)
        }
    }

    /// Ends `run` after its current batch, and releases every `drain` waiting.
    func stop() {
        let (wake, drainers) = state.withLock { state in
            state.stopped = true
            defer { state.wake = nil; state.drainers = [] }
            return (state.wake, state.drainers.map(\.continuation))
        }
        wake?.resume()
        for drainer in drainers { drainer.resume() }
    }

    /// The next files to send, as many as one request takes; nil once stopped.
    private func nextBatch() async -> [Entry]? {
        while true {
            let taken = state.withLock { state -> [Entry]?? in
                if state.stopped { return .some(nil) }
                guard let first = state.pending.first else { return nil }
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
                state.inFlight = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                state.pendingBytes -= state.inFlight.reduce(0) { $0 + $1.change.byteCount }
                return .some(state.inFlight)
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    guard state.pending.isEmpty, !state.stopped else { return true }
                    state.wake = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private func settled(_ batch: [Entry]) {
        guard let last = batch.last?.change.sequence else { return }
        journal.completed(through: last)
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight = []
            for entry in batch {
                if let inode = entry.inode { state.staged.remove(inode) }
                if let removal = entry.change.removal {
                    let name = Name(parent: removal.parent, name: removal.name)
                    if let count = state.removals[name], count > 1 { state.removals[name] = count - 1 } else { state.removals[name] = nil }
                }
                let parent = entry.change.parent
                if let count = state.parents[parent], count > 1 { state.parents[parent] = count - 1 } else { state.parents[parent] = nil }
            }
            state.completedThrough = max(state.completedThrough, last)
            let ready = state.drainers.filter { $0.through <= state.completedThrough }.map(\.continuation)
            state.drainers.removeAll { $0.through <= state.completedThrough }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}

private extension StagedUploads.State {
    mutating func queue(_ entry: StagedUploads.Entry) {
        pending.append(entry)
        if let inode = entry.inode { staged.insert(inode) }
        if let removal = entry.change.removal {
            removals[StagedUploads.Name(parent: removal.parent, name: removal.name), default: 0] += 1
        }
        parents[entry.change.parent, default: 0] += 1
        pendingBytes += entry.change.byteCount
        lastStaged = max(lastStaged, entry.change.sequence)
        let wake = wake
        self.wake = nil
        wake?.resume()
    }
}
