/// One server's replication state machine, in the style of etcd raft: it does no
/// I/O and reads no clock. Each event goes in through `handle(_:)`, which returns
/// the actions the I/O layer must carry out, in order (see docs/replication.md).
///
/// A replica is a backup, a candidate (during a promotion) or the primary. The
/// primary appends proposals to its log, streams them to the backups and answers
/// a proposal once it is durable on the write quorum; every replica applies an
/// entry once it is durable on a majority (committed) and on its own disk.
public struct Replica: Sendable {
    public let id: ReplicaID
    public let configuration: ReplicationConfiguration
    public internal(set) var role: ReplicaRole = .backup(primary: nil)
    public internal(set) var hardState: HardState
    var log: ReplicaLog
    /// Durable on a majority, as far as this replica knows.
    public internal(set) var commitIndex: LogIndex
    public internal(set) var appliedIndex: LogIndex
    /// This replica's own log is fsync'd up to here.
    public internal(set) var durableIndex: LogIndex
    /// Logical time: ticks handled so far.
    var now: UInt64 = 0

    // Backup: up to here this log is known to match the current term's primary.
    var primaryMatch: LogIndex = .zero
    var installingSnapshot: SnapshotHeader?

    // Primary.
    var progress: [ReplicaID: Progress] = [:]
    var pending: [(index: LogIndex, token: ProposalToken)] = []

    // Promotion under way.
    var promotion: Promotion?

    var actions: [ReplicaAction] = []

    /// Starts from what the disk holds; a replica always starts as a backup (a
    /// restarted primary must be promoted again, under a higher term).
    public init(id: ReplicaID, configuration: ReplicationConfiguration, restoring state: PersistentState = .empty) {
        precondition(configuration.replicas.contains(id), "\(id) is not in the configuration")
        precondition(state.applied >= state.logStart.index, "the applied state cannot predate the log start")
        self.id = id
        self.configuration = configuration
        hardState = state.hardState
        log = ReplicaLog(start: state.logStart, entries: state.entries)
        precondition(state.applied <= log.lastIndex, "applied entries must be in the log or before its start")
        appliedIndex = state.applied
        commitIndex = state.applied
        durableIndex = log.lastIndex
    }

    public var term: Term { hardState.term }
    public var lastPosition: LogPosition { log.last }
    public var logStart: LogPosition { log.start }
    public var isPrimary: Bool { role == .primary }
    /// The primary this replica follows, if it knows one.
    public var knownPrimary: ReplicaID? {
        switch role {
        case .primary: id
        case .backup(let primary): primary
        case .candidate: nil
        }
    }

    /// The term of the entry at `index`, nil if compacted or not in the log.
    public func term(at index: LogIndex) -> Term? { log.term(at: index) }
    /// The entries in `range`, which must lie after the log start and within the log.
    public func entries(in range: ClosedRange<LogIndex>) -> [LogEntry] { log.entries(in: range) }

    public mutating func handle(_ event: ReplicaEvent) -> [ReplicaAction] {
        precondition(actions.isEmpty)
        switch event {
        case .propose(let proposals): propose(proposals)
        case .receive(let from, let message): receive(from: from, message)
        case .tick: tick()
        case .persisted(let position): persisted(through: position)
        case .snapshotInstalled(let header): snapshotInstalled(header)
        case .compacted(let index): compacted(through: index)
        case .promote: startPromotion()
        }
        defer { actions = [] }
        return actions
    }

    // MARK: terms and roles

    private mutating func receive(from: ReplicaID, _ message: ReplicationMessage) {
        guard from != id, configuration.replicas.contains(from) else { return }
        if message.term > term {
            switch message {
            case .voteRequest(let request) where request.preVote:
                break  // asking changes nothing
            case .voteResponse(let response) where response.preVote && response.granted:
                break  // the candidate's own future term, echoed
            case .voteResponse(let response) where response.preVote && promotion?.preVote == true:
                // This replica's term was stale: learn it and ask again above it.
                promotion = nil
                becomeBackup(term: response.term, primary: nil)
                startPromotion()
                return
            case .append, .installSnapshot:
                becomeBackup(term: message.term, primary: from)
            default:
                becomeBackup(term: message.term, primary: nil)
            }
        } else if message.term < term {
            // Tell the sender of the newer term so an old primary steps down.
            switch message {
            case .append, .installSnapshot:
                send(to: from, .appendResponse(AppendResponse(term: term, success: false, index: .zero, durable: .zero)))
            case .voteRequest(let request):
                send(to: from, .voteResponse(VoteResponse(term: term, granted: false, preVote: request.preVote, voterLast: log.last)))
            case .appendResponse, .voteResponse:
                break
            }
            return
        }
        switch message {
        case .append(let append): receiveAppend(from: from, append)
        case .appendResponse(let response): receiveAppendResponse(from: from, response)
        case .installSnapshot(let header): receiveSnapshot(from: from, header)
        case .voteRequest(let request): receiveVoteRequest(from: from, request)
        case .voteResponse(let response): receiveVoteResponse(from: from, response)
        }
    }

    /// Follows `primary` (if known) in `term`, adopting the term if it is newer.
    mutating func becomeBackup(term newTerm: Term, primary: ReplicaID?) {
        // A pre-vote goes on under the current primary; a new term or primary ends it.
        let endsPromotion = promotion != nil && (newTerm > term || role == .candidate)
        if newTerm > term {
            hardState = HardState(term: newTerm, votedFor: nil)
            actions.append(.persistHardState(hardState))
            primaryMatch = .zero
        }
        if role == .primary {
            // Still in the log, but whether they survive is up to the new primary.
            for proposal in pending { actions.append(.failProposal(proposal.token, .outcomeUnknown)) }
            pending = []
            progress = [:]
        }
        if endsPromotion {
            promotion = nil
            let reason = primary.map { "\($0) became primary in term \(term.rawValue)" }
                ?? "another promotion started term \(term.rawValue); retry"
            actions.append(.promotionFinished(.refused(reason: reason)))
        }
        let newRole = ReplicaRole.backup(primary: primary)
        if role != newRole {
            role = newRole
            actions.append(.roleChanged(newRole, term: term))
        }
    }

    private mutating func tick() {
        now += 1
        if role == .primary { tickPrimary() }
        tickPromotion()
    }

    // MARK: the local disk and the state machine

    private mutating func persisted(through position: LogPosition) {
        // A report for entries a later truncation replaced is stale.
        guard position.index > durableIndex, log.matches(position) else { return }
        durableIndex = position.index
        if role == .primary {
            advanceCommit()
        } else if case .backup(let primary?) = role {
            respond(to: primary)
        }
        applyCommitted()
    }

    private mutating func compacted(through index: LogIndex) {
        precondition(index <= appliedIndex, "only applied entries can be compacted")
        guard index > log.start.index, let term = log.term(at: index) else { return }
        log.restart(at: LogPosition(index: index, term: term))
    }

    /// Applies what is committed and durable here, in order.
    mutating func applyCommitted() {
        let target = min(commitIndex, durableIndex)
        guard target > appliedIndex, installingSnapshot == nil else { return }
        actions.append(.apply(log.entries(in: appliedIndex.next...target)))
        appliedIndex = target
    }

    mutating func send(to replica: ReplicaID, _ message: ReplicationMessage) {
        actions.append(.send(to: replica, message))
    }
}
