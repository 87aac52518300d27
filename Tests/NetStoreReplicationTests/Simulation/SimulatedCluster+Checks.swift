import NetStoreReplication

// The safety rules, checked as the actions that could break them are carried out.
extension SimulatedCluster {
    /// Whether `id`'s disk holds `entry`: in its durable log, or folded into its state.
    func diskHolds(_ id: ReplicaID, _ entry: LogEntry) -> Bool {
        let disk = nodes[id]!.disk
        if entry.index <= disk.logStart.index { return disk.applied >= entry.index && appliedEntries[entry.index] == entry }
        return disk.entry(at: entry.index) == entry
    }

    /// A client is answered only once its entry is durable on the write quorum, only
    /// by one primary per term, and never for an index that already holds another answered entry.
    mutating func acknowledge(_ token: ProposalToken, _ position: LogPosition, by id: ReplicaID) throws {
        guard let payload = payloads[token] else { throw SimulationFailure(message: "\(id) acknowledges unknown \(token)") }
        let entry = LogEntry(term: position.term, index: position.index, payload: payload)
        if let other = acknowledgerOfTerm[position.term], other != id {
            throw SimulationFailure(message: "\(id) and \(other) both acknowledge in \(position.term)")
        }
        acknowledgerOfTerm[position.term] = id
        if let earlier = acknowledged[position.index], earlier != entry {
            throw SimulationFailure(message: "\(position.index) acknowledged twice: \(earlier) and \(entry)")
        }
        let holders = ids.filter { diskHolds($0, entry) }
        guard holders.count >= configuration.writeQuorum else {
            throw SimulationFailure(message: "\(id) acknowledges \(token) at \(position) but only \(holders) hold it durably; the write quorum is \(configuration.writeQuorum)")
        }
        acknowledged[position.index] = entry
        answered[token] = position
        counts.acknowledged += 1
        note("\(id) acknowledges \(token) at \(position) (durable on \(holders))")
    }

    /// Applying: in order, and the same entry (and so the same state) at each index everywhere.
    mutating func apply(_ entry: LogEntry, at id: ReplicaID) throws {
        var disk = nodes[id]!.disk
        guard entry.index == disk.applied.next else {
            throw SimulationFailure(message: "\(id) applies \(entry.index) after \(disk.applied)")
        }
        if let other = appliedEntries[entry.index], other != entry {
            throw SimulationFailure(message: "\(id) applies \(entry) at \(entry.index) where another replica applied \(other)")
        }
        if let answered = acknowledged[entry.index], answered != entry {
            throw SimulationFailure(message: "\(id) applies \(entry) where the acknowledged \(answered) belongs: an answered mutation is lost")
        }
        disk.digest = SimDisk.mix(disk.digest, entry)
        disk.applied = entry.index
        if let known = digestAt[entry.index], known != disk.digest {
            throw SimulationFailure(message: "\(id)'s state after \(entry.index) differs from another replica's")
        }
        appliedEntries[entry.index] = entry
        digestAt[entry.index] = disk.digest
        nodes[id]!.disk = disk
    }

    /// A durable log loses entries from `index` on (unless they follow `kept`): none
    /// of them may be an acknowledged entry, or that entry is on one disk fewer.
    func checkRemoval(at id: ReplicaID, from index: LogIndex, unlessFollowing kept: LogPosition? = nil) throws {
        let disk = nodes[id]!.disk
        if let kept, let entry = disk.entry(at: kept.index), entry.term == kept.term { return }
        var i = index
        while i <= disk.lastDurable.index {
            if let answered = acknowledged[i], disk.entry(at: i) == answered {
                throw SimulationFailure(message: "\(id) removes the acknowledged \(answered) from its log")
            }
            i = i.next
        }
    }

    /// One primary per term, ever.
    mutating func checkRoles() throws {
        for id in ids {
            guard let replica = nodes[id]!.replica, replica.isPrimary else { continue }
            if let other = primaryOfTerm[replica.term], other != id {
                throw SimulationFailure(message: "\(id) and \(other) are both primary in \(replica.term)")
            }
            primaryOfTerm[replica.term] = id
        }
    }

    /// Every acknowledged entry is durable on a majority (with a write quorum of a majority or more).
    func checkAcknowledgedDurable() throws {
        guard configuration.writeQuorum >= configuration.majority else { return }
        for entry in acknowledged.values {
            let holders = ids.filter { diskHolds($0, entry) }
            if holders.count < configuration.majority {
                throw SimulationFailure(message: "the acknowledged \(entry) is durable only on \(holders)")
            }
        }
    }

    /// Every replica up, at the same applied index and state as the one primary,
    /// which has applied its whole log and every acknowledged entry. (A backup may
    /// keep a tail of an older term's entries beyond the primary's log: they were
    /// never committed, would not win a promotion, and the next append replaces them.)
    func converged() -> Bool {
        guard primaries.count == 1, let primaryID = primaries.first else { return false }
        let primary = nodes[primaryID]!.replica!
        let state = nodes[primaryID]!.disk
        guard primary.appliedIndex == primary.lastPosition.index,
              acknowledged.keys.allSatisfy({ $0 <= state.applied }) else { return false }
        for id in ids {
            guard let replica = nodes[id]!.replica else { return false }
            let disk = nodes[id]!.disk
            guard disk.applied == state.applied, disk.digest == state.digest, disk.queued.isEmpty,
                  replica.term == primary.term, replica.term(at: state.applied) == primary.lastPosition.term
            else { return false }
        }
        return true
    }
}
