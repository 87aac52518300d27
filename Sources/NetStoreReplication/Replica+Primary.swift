// The primary: proposals, streaming to backups, commit and acknowledgement.
extension Replica {
    /// Takes office: every backup is probed from the end of this log, and an
    /// empty entry of the new term lets the entries before it commit.
    mutating func becomePrimary() {
        role = .primary
        actions.append(.roleChanged(.primary, term: term))
        progress = [:]
        for peer in configuration.replicas where peer != id {
            progress[peer] = Progress(next: log.lastIndex.next, now: now)
        }
        appendLocally([LogEntry(term: term, index: log.lastIndex.next, payload: [])])
        for peer in progress.keys.sorted() { replicate(to: peer) }
        advanceCommit()
    }

    mutating func propose(_ proposals: [Proposal]) {
        guard role == .primary else {
            for proposal in proposals { actions.append(.failProposal(proposal.token, .notPrimary(primary: knownPrimary))) }
            return
        }
        var entries: [LogEntry] = []
        for proposal in proposals {
            guard pending.count < configuration.maxPendingProposals else {
                actions.append(.failProposal(proposal.token, .overloaded))
                continue
            }
            let entry = LogEntry(term: term, index: log.lastIndex + (entries.count + 1), payload: proposal.payload)
            entries.append(entry)
            pending.append((entry.index, proposal.token))
        }
        guard !entries.isEmpty else { return }
        appendLocally(entries)
        // The local write and the sends go out together: the primary's fsync runs
        // in parallel with the backups' (its own durability counts only once reported).
        for peer in progress.keys.sorted() { replicate(to: peer) }
        advanceCommit()
    }

    private mutating func appendLocally(_ entries: [LogEntry]) {
        for entry in entries { log.append(entry) }
        actions.append(.writeLog(truncatingFrom: nil, entries: entries))
    }

    /// Sends `peer` what it lacks, within the flow-control limits. A heartbeat is
    /// sent even when there is nothing new, to carry the commit index and learn
    /// what the backup has made durable.
    mutating func replicate(to peer: ReplicaID, heartbeat: Bool = false) {
        guard var p = progress[peer] else { return }
        defer { progress[peer] = p }
        switch p.mode {
        case .snapshot:
            return
        case .probe:
            guard !p.probeSent || heartbeat else { return }
            guard let append = makeAppend(from: p.next, maxBytes: configuration.maxBytesInFlight) else {
                sendSnapshot(to: peer, &p)
                return
            }
            send(to: peer, .append(append))
            p.probeSent = true
            p.lastSent = now
        case .replicate:
            var sent = false
            while p.next <= log.lastIndex, p.inflightBytes < configuration.maxBytesInFlight {
                guard let append = makeAppend(from: p.next, maxBytes: configuration.maxBytesInFlight - p.inflightBytes) else {
                    sendSnapshot(to: peer, &p)
                    return
                }
                send(to: peer, .append(append))
                let last = append.entries.last!.index
                p.inflight.append(.init(last: last, bytes: append.entries.reduce(0) { $0 + $1.byteCount }, sentAt: now))
                p.next = last.next
                p.lastSent = now
                sent = true
            }
            if heartbeat, !sent, let matchTerm = log.term(at: p.match) {
                // From the durable match, which the backup cannot have lost.
                let previous = LogPosition(index: p.match, term: matchTerm)
                send(to: peer, .append(AppendEntries(term: term, previous: previous, entries: [], commit: commitIndex)))
            }
        }
    }

    /// The append of entries from `next` on; nil when the entry before `next` is compacted.
    private func makeAppend(from next: LogIndex, maxBytes: Int) -> AppendEntries? {
        guard let previousTerm = log.term(at: next.previous) else { return nil }
        let entries = log.entries(from: next, maxCount: configuration.maxEntriesPerMessage, maxBytes: maxBytes)
        return AppendEntries(
            term: term, previous: LogPosition(index: next.previous, term: previousTerm),
            entries: entries, commit: commitIndex)
    }

    /// The applied state is the snapshot: it is committed, and the log after it is retained.
    private mutating func sendSnapshot(to peer: ReplicaID, _ p: inout Progress) {
        let position = LogPosition(index: appliedIndex, term: log.term(at: appliedIndex)!)
        actions.append(.sendSnapshot(to: peer, SnapshotHeader(term: term, position: position)))
        p.mode = .snapshot(appliedIndex)
        p.inflight = []
        p.lastSent = now
    }

    mutating func receiveAppendResponse(from peer: ReplicaID, _ response: AppendResponse) {
        guard role == .primary, var p = progress[peer] else { return }
        p.lastHeard = now
        if response.success {
            p.match = max(p.match, response.durable)
            p.confirmReceived(through: response.index)
            switch p.mode {
            case .probe:
                p.mode = .replicate
                p.probeSent = false
                p.next = max(response.index.next, p.match.next)
            case .replicate:
                if p.inflight.isEmpty, response.index < p.next.previous {
                    // Nothing is on its way, yet the backup lacks what it confirmed
                    // receiving: it restarted before syncing. Send it again.
                    p.next = max(response.index.next, p.match.next)
                } else {
                    p.next = max(p.next, response.index.next)
                }
            case .snapshot(let index):
                if response.index >= index {
                    p.mode = .replicate
                    p.next = max(response.index.next, p.match.next)
                }
            }
        } else {
            let current: Bool
            switch p.mode {
            case .probe: current = response.index == p.next.previous
            case .replicate: current = response.index >= p.match
            case .snapshot: current = false
            }
            guard current else {  // a late answer to an append already superseded
                progress[peer] = p
                return
            }
            if response.index <= p.match {
                // It lacks what it made durable: its disk was replaced. Count only
                // what it holds now (the commit index never goes back).
                p.match = min(p.match, response.hint.index)
            }
            // Skip back past the whole diverging stretch the hint shows.
            let agree = log.lastIndex(atOrBefore: response.hint.index, withTermAtMost: response.hint.term)
            p.restartProbe(at: min(response.index, agree.next))
        }
        progress[peer] = p
        advanceCommit()
        replicate(to: peer)
    }

    /// Commits what a majority holds durably (only an entry of this term commits by
    /// counting, Raft's rule) and answers the proposals durable on the write quorum.
    mutating func advanceCommit() {
        guard role == .primary else { return }
        let durable = ([durableIndex] + progress.values.map(\.match)).sorted(by: >)
        let majorityIndex = durable[configuration.majority - 1]
        if majorityIndex > commitIndex, log.term(at: majorityIndex) == term {
            commitIndex = majorityIndex
        }
        // Proposals all lie after this term's first entry, so each is of this term.
        let quorumIndex = durable[configuration.writeQuorum - 1]
        var answered = 0
        for proposal in pending {
            guard proposal.index <= quorumIndex else { break }
            actions.append(.acknowledge(proposal.token, LogPosition(index: proposal.index, term: term)))
            answered += 1
        }
        pending.removeFirst(answered)
        applyCommitted()
    }

    mutating func tickPrimary() {
        let beat = now % UInt64(configuration.heartbeatTicks) == 0
        let retransmit = UInt64(configuration.retransmitTicks)
        for peer in progress.keys.sorted() {
            guard var p = progress[peer] else { continue }
            // What went unanswered that long is presumed lost: probe again from the durable match.
            switch p.mode {
            case .probe:
                if now - p.lastSent >= retransmit { p.restartProbe(at: p.next) }
            case .snapshot:
                if now - p.lastSent >= UInt64(configuration.snapshotTimeoutTicks) { p.restartProbe(at: p.next) }
            case .replicate:
                if let oldest = p.inflight.first, now - oldest.sentAt >= retransmit { p.restartProbe(at: p.match.next) }
            }
            progress[peer] = p
            replicate(to: peer, heartbeat: beat)
        }
    }
}
