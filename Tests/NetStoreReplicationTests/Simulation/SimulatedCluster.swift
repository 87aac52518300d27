import NetStoreReplication

/// A broken safety rule, with the step it was seen at.
struct SimulationFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Replicas, their disks and the network between them, all in one process. The
/// cluster carries out each replica's actions as the I/O layer would, and checks
/// the safety rules as it goes; the fault schedule is `Simulation`'s.
struct SimulatedCluster {
    struct Envelope {
        var from: ReplicaID
        var to: ReplicaID
        var message: ReplicationMessage
        var snapshot: SimSnapshot?
    }

    struct Node {
        var replica: Replica?
        var disk = SimDisk()
    }

    struct Counts {
        var proposed = 0, acknowledged = 0, failed = 0, crashes = 0, promotions = 0, refusedPromotions = 0
        var snapshotsInstalled = 0, truncations = 0, delivered = 0, dropped = 0, duplicated = 0

        static func + (a: Counts, b: Counts) -> Counts {
            Counts(
                proposed: a.proposed + b.proposed, acknowledged: a.acknowledged + b.acknowledged, failed: a.failed + b.failed,
                crashes: a.crashes + b.crashes, promotions: a.promotions + b.promotions,
                refusedPromotions: a.refusedPromotions + b.refusedPromotions,
                snapshotsInstalled: a.snapshotsInstalled + b.snapshotsInstalled, truncations: a.truncations + b.truncations,
                delivered: a.delivered + b.delivered, dropped: a.dropped + b.dropped, duplicated: a.duplicated + b.duplicated)
        }
    }

    let configuration: ReplicationConfiguration
    var nodes: [ReplicaID: Node] = [:]
    var network: [Envelope] = []
    var counts = Counts()
    /// The last lines of what happened, printed with a failure.
    var trace: [String] = []
    var traceLimit = 60

    // What the checks remember.
    var payloads: [ProposalToken: [UInt8]] = [:]
    var acknowledged: [LogIndex: LogEntry] = [:]
    var appliedEntries: [LogIndex: LogEntry] = [:]
    var digestAt: [LogIndex: UInt64] = [:]
    var primaryOfTerm: [Term: ReplicaID] = [:]
    var acknowledgerOfTerm: [Term: ReplicaID] = [:]
    var promotionOutcomes: [(ReplicaID, PromotionOutcome)] = []
    var answered: [ProposalToken: LogPosition] = [:]
    var failures: [ProposalToken: ProposalFailure] = [:]

    init(configuration: ReplicationConfiguration) {
        self.configuration = configuration
        for id in configuration.replicas {
            nodes[id] = Node(replica: Replica(id: id, configuration: configuration))
        }
    }

    var ids: [ReplicaID] { configuration.replicas }
    func isUp(_ id: ReplicaID) -> Bool { nodes[id]!.replica != nil }
    func replica(_ id: ReplicaID) -> Replica? { nodes[id]!.replica }
    var primaries: [ReplicaID] { ids.filter { nodes[$0]!.replica?.isPrimary == true } }

    mutating func note(_ line: String) {
        trace.append(line)
        if trace.count > traceLimit { trace.removeFirst(trace.count - traceLimit) }
    }

    // MARK: driving a replica

    mutating func handle(_ id: ReplicaID, _ event: ReplicaEvent, snapshot: SimSnapshot? = nil) throws {
        guard var replica = nodes[id]!.replica else { return }
        let actions = replica.handle(event)
        nodes[id]!.replica = replica
        for action in actions { try perform(action, at: id, snapshot: snapshot) }
        try checkRoles()
    }

    private mutating func perform(_ action: ReplicaAction, at id: ReplicaID, snapshot: SimSnapshot?) throws {
        switch action {
        case .persistHardState(let state):
            nodes[id]!.disk.hardState = state
        case .writeLog(let truncation, let entries):
            nodes[id]!.disk.queued.append(.log(truncatingFrom: truncation, entries: entries))
        case .send(let to, let message):
            network.append(Envelope(from: id, to: to, message: message))
        case .sendSnapshot(let to, let header):
            let disk = nodes[id]!.disk
            guard disk.applied == header.position.index else {
                throw SimulationFailure(message: "\(id) offers a snapshot at \(header.position) but its state is at \(disk.applied)")
            }
            let body = SimSnapshot(position: header.position, digest: disk.digest)
            network.append(Envelope(from: id, to: to, message: .installSnapshot(header), snapshot: body))
        case .installSnapshot(let header, _):
            guard let snapshot, snapshot.position == header.position else {
                throw SimulationFailure(message: "\(id) installs a snapshot that did not come with the message")
            }
            nodes[id]!.disk.queued.append(.snapshot(header, snapshot))
        case .apply(let entries):
            for entry in entries { try apply(entry, at: id) }
        case .acknowledge(let token, let position):
            try acknowledge(token, position, by: id)
        case .failProposal(let token, let failure):
            counts.failed += 1
            failures[token] = failure
            note("\(id) fails \(token): \(failure)")
        case .roleChanged(let role, let term):
            note("\(id) is \(role) in \(term)")
        case .promotionFinished(let outcome):
            promotionOutcomes.append((id, outcome))
            switch outcome {
            case .promoted: counts.promotions += 1
            case .refused: counts.refusedPromotions += 1
            }
            note("\(id) promotion: \(outcome)")
        }
    }

    // MARK: the disk

    /// Completes `count` queued writes (all by default), as one fsync would.
    mutating func fsync(_ id: ReplicaID, count: Int? = nil) throws {
        guard isUp(id) else { return }
        let writes = nodes[id]!.disk.queued.prefix(count ?? Int.max)
        nodes[id]!.disk.queued.removeFirst(writes.count)
        var events: [ReplicaEvent] = []
        for write in writes {
            switch write {
            case .log(let truncation, let entries):
                if let truncation {
                    try checkRemoval(at: id, from: truncation)
                    nodes[id]!.disk.truncate(from: truncation)
                    counts.truncations += 1
                }
                nodes[id]!.disk.entries.append(contentsOf: entries)
                if let last = entries.last {
                    if case .persisted = events.last { events.removeLast() }  // one report for consecutive writes
                    events.append(.persisted(through: last.position))
                }
            case .snapshot(let header, let snapshot):
                if let known = digestAt[snapshot.position.index], known != snapshot.digest {
                    throw SimulationFailure(message: "\(id) installs a snapshot at \(snapshot.position) whose state differs from what was applied there")
                }
                try checkRemoval(at: id, from: snapshot.position.index.next, unlessFollowing: snapshot.position)
                nodes[id]!.disk.install(snapshot)
                counts.snapshotsInstalled += 1
                note("\(id) installed snapshot \(snapshot.position)")
                events.append(.snapshotInstalled(header))
            }
        }
        for event in events { try handle(id, event) }
    }

    mutating func crash(_ id: ReplicaID) {
        guard isUp(id) else { return }
        nodes[id]!.replica = nil
        nodes[id]!.disk.queued = []
        counts.crashes += 1
        note("\(id) crashes")
    }

    mutating func restart(_ id: ReplicaID) {
        guard !isUp(id) else { return }
        nodes[id]!.replica = Replica(id: id, configuration: configuration, restoring: nodes[id]!.disk.persistent)
        note("\(id) restarts at \(nodes[id]!.disk.lastDurable), applied \(nodes[id]!.disk.applied)")
    }

    /// Starts a replica from an empty disk, as a replaced server would.
    mutating func wipe(_ id: ReplicaID) {
        nodes[id] = Node(replica: Replica(id: id, configuration: configuration))
        note("\(id) starts empty")
    }

    mutating func compact(_ id: ReplicaID, keeping retained: UInt64) throws {
        guard isUp(id) else { return }
        let applied = nodes[id]!.disk.applied
        guard applied.rawValue > retained else { return }
        let index = LogIndex(applied.rawValue - retained)
        nodes[id]!.disk.compact(through: index)
        try handle(id, .compacted(through: index))
    }

    // MARK: the network

    mutating func deliver(at position: Int, keepCopy: Bool = false) throws {
        let envelope = network[position]
        if keepCopy {
            counts.duplicated += 1
        } else {
            network.remove(at: position)
        }
        counts.delivered += 1
        try handle(envelope.to, .receive(from: envelope.from, envelope.message), snapshot: envelope.snapshot)
    }

    mutating func drop(at position: Int) {
        network.remove(at: position)
        counts.dropped += 1
    }

    mutating func propose(at id: ReplicaID, _ payloads: [[UInt8]], firstToken: UInt64) throws {
        var proposals: [Proposal] = []
        for (offset, payload) in payloads.enumerated() {
            let token = ProposalToken(firstToken + UInt64(offset))
            self.payloads[token] = payload
            proposals.append(Proposal(payload: payload, token: token))
        }
        counts.proposed += proposals.count
        try handle(id, .propose(proposals))
    }
}
