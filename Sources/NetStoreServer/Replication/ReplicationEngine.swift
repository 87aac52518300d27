import Logging
import NIOCore
import NetStoreAuth
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import Synchronization

/// Drives the replication state machine (`Replica`) for a server: mutations are
/// proposed, written to the log (the durability point), replicated, applied once
/// committed, and answered with their apply result (docs/replication.md, "Wiring").
///
/// One loop owns the replica. Requests, the tick timer and the replication
/// connections post events; the loop takes everything queued at once (all waiting
/// proposals become one `.propose`: one log write, one fsync, one message per
/// backup) and carries out the actions in order on a thread of its own.
public final class ReplicationEngine: MutationSubmitter, Sendable {
    let id: ReplicaID
    let store: Store
    let logger: Logger
    /// Sends replication messages; nil on a server without replicas.
    let transport: (any ReplicationTransport)?
    let configuration: ReplicationConfiguration
    /// How long a mutation may wait for the write quorum before its client is told.
    let proposalTimeout: Duration
    /// Applied entries kept in the log for backups that fall behind; older ones are
    /// compacted away, and a backup that needs them gets a snapshot instead.
    let retainedLogEntries: UInt64
    /// Snapshot bodies being received from the primary.
    let snapshots: SnapshotReceiver
    /// How many committed entries a backup may hold unapplied (`holdsApplies`).
    let backupApplyBatch: Int
    /// The connections watching for changes; fed after each apply while primary.
    public let changes = ChangeFeed()
    private let machine: Mutex<Machine>
    private let inbox = Mutex(Inbox())
    /// Where the loop runs: posting an event or a proposal wakes it.
    private let loop = WakeableThread()
    private let published: Mutex<ReplicationStatus>

    struct Machine: Sendable {
        var replica: Replica
        /// Where each accepted proposal's entry is, so its apply result reaches it.
        var tokenAt: [LogIndex: ProposalToken] = [:]
        var broken: NetStoreError?
        /// Notices of the entries applied in this pass, published once the pass is done.
        var applied: [AppliedChange] = []
        /// Small blocks that came with this pass's proposals or appends, stored
        /// by its first log write (which the entries that refer to them are in).
        var unstoredBlocks = PendingBlocks()
        /// A backup's committed entries not applied yet (`holdsApplies`).
        var unapplied: [LogEntry] = []
    }

    /// Small blocks (ids computed from these bytes) waiting for a log write.
    struct PendingBlocks: Sendable {
        var blocks: [(id: BlockID, bytes: [UInt8])] = []
        /// When they arrived: the time their rows record.
        var now: Int64 = 0

        mutating func add(_ more: [(id: BlockID, bytes: [UInt8])], now: Int64) {
            guard !more.isEmpty else { return }
            blocks += more
            self.now = max(self.now, now)
        }
    }

    /// An applied mutation's notices, and the proposal that made it (if made here).
    struct AppliedChange: Sendable {
        var token: ProposalToken?
        var account: AccountID
        var notices: [ChangeNotice]
    }

    struct Inbox: Sendable {
        var events: [ReplicaEvent] = []
        var proposals: [Proposal] = []
        var blocks = PendingBlocks()
        var waiters: [ProposalToken: Waiter] = [:]
        var nextToken: UInt64 = 1
        var primaryWaiters: [CheckedContinuation<Void, Never>] = []
        var promotionWaiters: [CheckedContinuation<PromotionOutcome, Never>] = []
    }

    struct Waiter: Sendable {
        var continuation: CheckedContinuation<MutationResult, any Error>
        var acknowledged = false
        var result: Result<MutationResult, NetStoreError>?
        /// Unanswered by then, the client is told so (the entry may still commit).
        var deadline: ContinuousClock.Instant
        /// The connection that asked for it: its change notices skip it.
        var origin: UInt64?
    }

    /// Restores the replica from the store's log and replication tables.
    public init(id: ReplicaID, configuration: ReplicationConfiguration, store: Store,
                transport: (any ReplicationTransport)?, proposalTimeout: Duration = .seconds(10),
                retainedLogEntries: Int = ServerConfiguration.defaultRetainedLogEntries,
                backupApplyBatch: Int = ReplicationEngine.defaultBackupApplyBatch, logger: Logger) throws {
        precondition(retainedLogEntries >= 0)
        self.id = id
        self.configuration = configuration
        self.proposalTimeout = proposalTimeout
        self.retainedLogEntries = UInt64(retainedLogEntries)
        precondition(backupApplyBatch >= 1)
        self.backupApplyBatch = backupApplyBatch
        self.store = store
        self.transport = transport
        self.logger = logger
        snapshots = SnapshotReceiver(dataDirectory: store.directory, logger: logger)
        let replica = try Self.restore(id: id, configuration: configuration, store: store, logger: logger)
        machine = Mutex(Machine(replica: replica))
        published = Mutex(ReplicationStatus(replica))
    }

    /// The replica as the disk holds it: what a restart would give.
    static func restore(id: ReplicaID, configuration: ReplicationConfiguration, store: Store, logger: Logger) throws -> Replica {
        let stored = try store.loadReplicationState()
        let state = PersistentState(
            hardState: HardState(term: Term(stored.term), votedFor: stored.votedFor.map { ReplicaID($0) }),
            logStart: LogPosition(index: LogIndex(stored.logStartIndex), term: Term(stored.logStartTerm)),
            entries: stored.entries.map { LogEntry(term: Term($0.term), index: LogIndex($0.index), payload: $0.payload) },
            applied: LogIndex(stored.appliedIndex))
        let replica = Replica(id: id, configuration: configuration, restoring: state)
        logger.info("replication state restored", metadata: [
            "term": "\(stored.term)", "applied": "\(stored.appliedIndex)", "log-start": "\(stored.logStartIndex)",
            "last": "\(replica.lastPosition.index)"])
        return replica
    }

    public var status: ReplicationStatus { published.withLock { $0 } }

    /// A block a client has just stored here: while primary, sent on to the backups
    /// ahead of the commit that will need it. A backup forwards nothing.
    func forwardClientBlock(_ id: BlockID, bytes: ByteBuffer) {
        guard let transport, status.isPrimary else { return }
        transport.forwardBlock(id, bytes: bytes)
    }

    /// Small blocks just stored here that the next append will carry: kept for
    /// the senders, so they need not read them back from the database.
    func rememberCarriedBlocks(_ blocks: [(id: BlockID, bytes: [UInt8])]) {
        guard let transport, status.isPrimary else { return }
        transport.rememberCarriedBlocks(blocks)
    }

    /// True for the other servers of this cluster (not this one, not strangers).
    public func isPeer(_ replica: ReplicaID) -> Bool {
        replica != id && configuration.replicas.contains(replica)
    }

    // MARK: posting events

    public func post(_ event: ReplicaEvent) {
        post(event, storing: [], now: 0)
    }

    /// Posts `event` (an append) with small blocks its entries refer to, checked
    /// against their ids: stored in the same transaction as the entries.
    public func post(_ event: ReplicaEvent, storing blocks: [(id: BlockID, bytes: [UInt8])], now: Int64) {
        inbox.withLock { inbox in
            inbox.events.append(event)
            inbox.blocks.add(blocks, now: now)
        }
        loop.wake()
    }

    /// Proposes a mutation and returns its result once it is applied here and
    /// durable on the write quorum.
    public func submit(_ mutation: Mutation) async throws -> MutationResult {
        try await submit(mutation, origin: nil)
    }

    /// As `submit(_:)`, for a request of connection `origin`.
    public func submit(_ mutation: Mutation, origin: UInt64?) async throws -> MutationResult {
        try await submit(mutation, origin: origin, storing: [], now: 0)
    }

    /// As `submit(_:origin:)`; `blocks` are stored in the transaction that writes
    /// the mutation's log entry.
    public func submit(_ mutation: Mutation, origin: UInt64?, storing blocks: [(id: BlockID, bytes: [UInt8])],
                       now: Int64) async throws -> MutationResult {
        try Store.checkSmall(blocks)  // refused here: the log write would fail on it, and stop the engine
        let payload = try MutationCodec.tryEncode(mutation)
        if let transport, status.isPrimary {
            // Refused before it enters the log: it cannot become durable on enough servers now.
            let reachable = transport.reachablePeers + 1
            if reachable < configuration.writeQuorum {
                throw NetStoreError(.readOnly, "only \(reachable) of \(configuration.replicas.count) servers can be reached and changes need \(configuration.writeQuorum) (the write quorum): retry once a backup is back")
            }
        }
        let deadline = ContinuousClock.now + proposalTimeout
        return try await withCheckedThrowingContinuation { continuation in
            inbox.withLock { inbox in
                let token = ProposalToken(inbox.nextToken)
                inbox.nextToken += 1
                inbox.waiters[token] = Waiter(continuation: continuation, deadline: deadline, origin: origin)
                inbox.proposals.append(Proposal(payload: payload, token: token))
                inbox.blocks.add(blocks, now: now)
            }
            loop.wake()
        }
    }

    /// Returns once this server is primary.
    public func waitUntilPrimary() async {
        await withCheckedContinuation { continuation in
            let now = inbox.withLock { inbox -> Bool in
                if status.isPrimary { return true }
                inbox.primaryWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Asks this server to become primary (`.promote`) and returns the outcome.
    public func promote() async -> PromotionOutcome {
        await withCheckedContinuation { continuation in
            inbox.withLock { $0.promotionWaiters.append(continuation) }
            post(.promote)
        }
    }

    /// Fails the proposals that waited past their deadline: the client hears of it
    /// instead of waiting forever for backups that are gone.
    private func expireWaiters() {
        let now = ContinuousClock.now
        let expired = inbox.withLock { inbox -> [CheckedContinuation<MutationResult, any Error>] in
            let late = inbox.waiters.filter { $0.value.deadline <= now }
            for token in late.keys { inbox.waiters[token] = nil }
            return late.values.map(\.continuation)
        }
        let error = NetStoreError(.timedOut, "the change was not durable on \(configuration.writeQuorum) servers (the write quorum) within \(proposalTimeout): it may still be made once a backup is back; check before retrying")
        for continuation in expired { continuation.resume(throwing: error) }
    }

    // MARK: the loop

    /// Runs until the task is cancelled; `tickMilliseconds` paces `.tick`.
    public func run(tickMilliseconds: Int = 50) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .milliseconds(tickMilliseconds)) } catch { return }
                    self.post(.tick)
                    self.expireWaiters()
                }
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await self.loop.run(name: "replication") { self.runPass() }
                } onCancel: {
                    self.loop.stop()
                }
            }
        }
        failEveryWaiter(NetStoreError(.tryAgain, "the server is shutting down: retry on the primary"))
    }

    /// Takes everything queued at once and handles it, on the loop's own thread
    /// (it writes the log and applies: storage work, like the storage threads do).
    private func runPass() {
        let (events, proposals, blocks) = inbox.withLock { inbox in
            defer { inbox.events = []; inbox.proposals = []; inbox.blocks = PendingBlocks() }
            return (inbox.events, inbox.proposals, inbox.blocks)
        }
        let batch = events + (proposals.isEmpty ? [] : [ReplicaEvent.propose(proposals)])
        if !batch.isEmpty { process(batch, blocks: blocks) }
    }

    /// Handles events one at a time and carries out their actions in order; events
    /// the actions cause (`.persisted`) are handled in the same pass.
    ///
    /// A backup's success answers are held until the next log write or the end of
    /// the events, and only the last to each peer is sent (`HeldAnswers`): one
    /// answer per append, once it is durable.
    ///
    /// Applying waits until the events are handled, unless an action that depends
    /// on the applied state comes first: a backup then reports its log write durable
    /// (what the primary waits for) before it applies older entries, instead of after.
    /// Applies still run in order, and before anything but sends, log writes and
    /// acknowledgements (which neither read nor change the applied state). The
    /// pass's entries are applied in one transaction; a backup may hold them for
    /// later passes (`holdsApplies`).
    ///
    /// `blocks` go into the pass's first log write. Blocks no log write took (a
    /// refused proposal or append) are dropped: no entry here refers to them, and
    /// an append refused is sent again with its blocks.
    private func process(_ batch: [ReplicaEvent], blocks: PendingBlocks) {
        var answers: [Answer] = []
        var becamePrimary = false
        var promotions: [PromotionOutcome] = []
        let (applied, isPrimary) = machine.withLock { m in
            m.unstoredBlocks = blocks
            defer { m.unstoredBlocks = PendingBlocks() }
            var queue = batch[...]
            // Committed entries to apply, in order: one transaction for them all.
            var deferred = m.unapplied
            m.unapplied = []
            var held = HeldAnswers()
            var wroteLog = false
            func run(_ actions: [ReplicaAction], _ m: inout Machine) {
                for action in actions {
                    execute(action, &m, followUps: &queue, answers: &answers, becamePrimary: &becamePrimary)
                }
            }
            func applyDeferred(_ m: inout Machine) {
                run(held.releaseAll(), &m)  // answers go before the applies they need not wait for
                if !deferred.isEmpty { run([.apply(deferred)], &m) }
                deferred = []
            }
            while true {
                while let event = queue.popFirst() {
                    if let broken = m.broken {
                        if case .propose(let proposals) = event {
                            answers += proposals.map { .failed($0.token, broken) }
                        }
                        continue
                    }
                    let actions = m.replica.handle(event)
                    if case .propose(let proposals) = event { noteIndexes(of: proposals, actions, &m) }
                    for action in Self.sendingFirst(actions) {
                        if let first = held.hold(action) {
                            run(first, &m)
                            continue
                        }
                        switch action {
                        case .apply(let entries):
                            deferred += entries
                            continue
                        case .send(let to, _):
                            run(held.release(to: to), &m)
                        case .writeLog:
                            run(held.releaseAll(), &m)  // an answer never waits for a later write
                            wroteLog = true
                        case .acknowledge:
                            break
                        default:
                            applyDeferred(&m)
                        }
                        if case .promotionFinished(let outcome) = action { promotions.append(outcome) }
                        execute(action, &m, followUps: &queue, answers: &answers, becamePrimary: &becamePrimary)
                    }
                }
                if deferred.isEmpty && held.isEmpty { break }
                if holdsApplies(deferred, wroteLog: wroteLog, m) {
                    run(held.releaseAll(), &m)
                    m.unapplied = deferred
                    break
                }
                applyDeferred(&m)  // its compaction may add an event
            }
            var status = ReplicationStatus(m.replica)
            if let first = m.unapplied.first { status.appliedIndex = first.index.rawValue - 1 }
            published.withLock { $0 = status }
            defer { m.applied = [] }
            return (m.applied, status.isPrimary)
        }
        // Before the answers: a client that hears its change is made, then
        // asks another connection, finds the others told already.
        publishChanges(applied, isPrimary: isPrimary)
        deliver(answers, becamePrimary: becamePrimary)
        if let outcome = promotions.last {
            let waiters = inbox.withLock { inbox in
                defer { inbox.promotionWaiters = [] }
                return inbox.promotionWaiters
            }
            for waiter in waiters { waiter.resume(returning: outcome) }
        }
    }

    /// A backup applies committed entries many to a transaction: the pages they
    /// share (a directory's entries and their indexes, the last page of the
    /// nodes, the applied position) are then written once per batch instead of
    /// once per entry. It holds them while the primary streams new entries, up
    /// to `backupApplyBatch`, and applies them at the first pass that brings
    /// none (a heartbeat, which carries the commit index when the primary is
    /// idle, or a tick: every 50 ms). Held entries are durable in its log, and
    /// it answers the primary from its log; what reads or replaces the applied
    /// state (a new term, a promotion, a snapshot) applies them first (the
    /// order in `process`), and a restart applies the log.
    private func holdsApplies(_ entries: [LogEntry], wroteLog: Bool, _ m: Machine) -> Bool {
        guard wroteLog, !entries.isEmpty, entries.count < backupApplyBatch, m.broken == nil else { return false }
        if case .backup = m.replica.role { return true }
        return false
    }

    /// Measured on a default mount's small-file creates and deletes: each
    /// backup's CPU per change a quarter lower than with a transaction per entry.
    public static let defaultBackupApplyBatch = 256

    /// The actions in order, except that the appends right after a log write go
    /// out before it: the backups then write the entries while this server's fsync
    /// runs. A message claims only what is durable already (the replica counts its
    /// own log durable once `.persisted` says so), so sending early promises
    /// nothing; the hard state is still saved before any send that follows it (a
    /// vote). A backup's answer stays after its write: sent before, it would only
    /// cost the primary a pass to learn nothing is durable yet.
    static func sendingFirst(_ actions: [ReplicaAction]) -> [ReplicaAction] {
        var ordered: [ReplicaAction] = []
        ordered.reserveCapacity(actions.count)
        var heldWrite: ReplicaAction?
        for action in actions {
            switch action {
            case .writeLog:
                if let held = heldWrite { ordered.append(held) }
                heldWrite = action
            case .send(_, .append):
                ordered.append(action)
            default:
                if let held = heldWrite { ordered.append(held); heldWrite = nil }
                ordered.append(action)
            }
        }
        if let held = heldWrite { ordered.append(held) }
        return ordered
    }

    /// The accepted proposals are, in order, the entries of the log write that follows.
    private func noteIndexes(of proposals: [Proposal], _ actions: [ReplicaAction], _ m: inout Machine) {
        var failed = Set<ProposalToken>()
        var written: [LogEntry] = []
        for action in actions {
            switch action {
            case .failProposal(let token, _): failed.insert(token)
            case .writeLog(_, let entries) where written.isEmpty: written = entries
            default: break
            }
        }
        let accepted = proposals.filter { !failed.contains($0.token) }
        precondition(accepted.count == written.count, "each accepted proposal is one new entry")
        for (proposal, entry) in zip(accepted, written) { m.tokenAt[entry.index] = proposal.token }
    }

    private func execute(
        _ action: ReplicaAction, _ m: inout Machine, followUps: inout ArraySlice<ReplicaEvent>,
        answers: inout [Answer], becamePrimary: inout Bool
    ) {
        do {
            switch action {
            case .persistHardState(let hard):
                try store.saveHardState(term: hard.term.rawValue, votedFor: hard.votedFor?.rawValue)
            case .writeLog(let truncation, let entries):
                try store.writeLog(
                    truncatingFrom: truncation?.rawValue,
                    entries: entries.map { StoredLogEntry(index: $0.index.rawValue, term: $0.term.rawValue, payload: $0.payload) },
                    blocks: m.unstoredBlocks.blocks, now: m.unstoredBlocks.now)
                m.unstoredBlocks = PendingBlocks()
                // Written in order and durable now: the next event says so.
                if let last = entries.last { followUps.append(.persisted(through: last.position)) }
                else if truncation != nil { followUps.append(.persisted(through: m.replica.lastPosition)) }
            case .send(let to, let message):
                transport?.send(message, to: to)
            case .sendSnapshot(let to, let header):
                try sendSnapshot(to: to, header)
            case .installSnapshot(let header, let from):
                installSnapshot(header, from: from, &m, followUps: &followUps)
            case .apply(let entries):
                try apply(entries, &m, answers: &answers)
                if let last = entries.last { try compact(applied: last.index, &m, followUps: &followUps) }
            case .acknowledge(let token, _):
                answers.append(.acknowledged(token))
            case .failProposal(let token, let reason):
                m.tokenAt = m.tokenAt.filter { $0.value != token }
                answers.append(.failed(token, Self.error(for: reason)))
            case .roleChanged(let role, let term):
                logger.notice("replication role changed", metadata: ["role": "\(role)", "term": "\(term.rawValue)"])
                if role == .primary { becamePrimary = true }
                if role != .primary { m.tokenAt = [:] }
            case .promotionFinished(let outcome):
                logger.notice("promotion finished", metadata: ["outcome": "\(outcome)"])
            }
        } catch {
            // The store failed (disk full, I/O): the replica believes the action done.
            // Stop taking mutations rather than diverge; a restart resumes from the log.
            let failure = error as? NetStoreError ?? NetStoreError(.io, "\(error)")
            logger.critical("replication stopped: the store failed", metadata: ["error": "\(failure)"])
            m.broken = NetStoreError(failure.code, "the server's store failed (\(failure.message)): restart it once fixed")
        }
    }

    /// Applies committed entries in one store transaction (one fsync per batch).
    private func apply(_ entries: [LogEntry], _ m: inout Machine, answers: inout [Answer]) throws {
        var batch: [BatchEntry] = []
        var malformed: [Int: NetStoreError] = [:]
        batch.reserveCapacity(entries.count)
        for entry in entries {
            var mutation: Mutation?
            if !entry.isTermStart {
                do {
                    mutation = try MutationCodec.decode(entry.payload)
                } catch {
                    // Same bytes everywhere, so the same refusal everywhere.
                    logger.error("log entry \(entry.index) is malformed", metadata: ["error": "\(error)"])
                    malformed[batch.count] = error
                }
            }
            batch.append(BatchEntry(index: entry.index.rawValue, term: entry.term.rawValue, mutation: mutation))
        }
        let results = try store.apply(batch: batch)
        let watched = !changes.isEmpty
        for (offset, entry) in entries.enumerated() {
            let token = m.tokenAt.removeValue(forKey: entry.index)
            if watched, case .success = results[offset], let mutation = batch[offset].mutation,
               let (account, notices) = mutation.changeNotices {
                m.applied.append(AppliedChange(token: token, account: account, notices: notices))
            }
            guard let token, !entry.isTermStart else { continue }
            answers.append(.applied(token, malformed[offset].map { .failure($0) } ?? results[offset]))
        }
    }

    /// Hands the applied changes to the watchers, each without its own; a
    /// server that is no longer primary ends every watch instead (its
    /// successor's changes would not reach them).
    private func publishChanges(_ applied: [AppliedChange], isPrimary: Bool) {
        guard isPrimary else {
            if !changes.isEmpty { changes.endAll() }
            return
        }
        guard !applied.isEmpty else { return }
        // The connection that asked is on the proposal's waiter, still there until `deliver`.
        let resolved = inbox.withLock { inbox in
            applied.map { change in
                ChangeFeed.Change(
                    account: change.account, origin: change.token.flatMap { inbox.waiters[$0]?.origin },
                    notices: change.notices)
            }
        }
        changes.publish(resolved)
    }

    enum Answer {
        case acknowledged(ProposalToken)
        case applied(ProposalToken, Result<MutationResult, NetStoreError>)
        case failed(ProposalToken, NetStoreError)
    }

    /// Answers a proposal once it is both applied here and acknowledged (durable on
    /// the write quorum), whichever comes last; or at once when it failed.
    private func deliver(_ answers: [Answer], becamePrimary: Bool) {
        var ready: [(CheckedContinuation<MutationResult, any Error>, Result<MutationResult, NetStoreError>)] = []
        let primaryWaiters = inbox.withLock { inbox -> [CheckedContinuation<Void, Never>] in
            for answer in answers {
                switch answer {
                case .failed(let token, let error):
                    if let waiter = inbox.waiters.removeValue(forKey: token) { ready.append((waiter.continuation, .failure(error))) }
                case .acknowledged(let token):
                    guard var waiter = inbox.waiters[token] else { continue }
                    if let result = waiter.result {
                        ready.append((waiter.continuation, result))
                        inbox.waiters[token] = nil
                    } else {
                        waiter.acknowledged = true
                        inbox.waiters[token] = waiter
                    }
                case .applied(let token, let result):
                    guard var waiter = inbox.waiters[token] else { continue }
                    if waiter.acknowledged {
                        ready.append((waiter.continuation, result))
                        inbox.waiters[token] = nil
                    } else {
                        waiter.result = result
                        inbox.waiters[token] = waiter
                    }
                }
            }
            guard becamePrimary else { return [] }
            defer { inbox.primaryWaiters = [] }
            return inbox.primaryWaiters
        }
        for (continuation, result) in ready { continuation.resume(with: result.mapError { $0 as any Error }) }
        for waiter in primaryWaiters { waiter.resume() }
    }

    private func failEveryWaiter(_ error: NetStoreError) {
        let waiters = inbox.withLock { inbox in
            defer { inbox.waiters = [:] }
            return inbox.waiters.values.map(\.continuation)
        }
        for continuation in waiters { continuation.resume(throwing: error) }
    }

    static func error(for failure: ProposalFailure) -> NetStoreError {
        switch failure {
        case .notPrimary:
            NetStoreError(.notPrimary, "this server is not the primary: send changes to the primary")
        case .overloaded:
            NetStoreError(.tryAgain, "too many changes wait for replication: retry shortly")
        case .outcomeUnknown:
            NetStoreError(.io, "the primary stepped down before the change was replicated: it may or may not have been made; check before retrying")
        }
    }
}
