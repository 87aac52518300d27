// The backup: appending what the primary sends, snapshots, answering.
extension Replica {
    mutating func receiveAppend(from primary: ReplicaID, _ append: AppendEntries) {
        // Same term: whoever sends appends in it is its one primary.
        guard role != .primary else { return }
        becomeBackup(term: term, primary: primary)
        guard installingSnapshot == nil else { return }  // the primary sends again after the snapshot
        if append.previous.index < commitIndex {
            // Everything up to the commit index matches every later primary's log.
            primaryMatch = max(primaryMatch, commitIndex)
            respond(to: primary)
            return
        }
        guard log.matches(append.previous) else {
            let agree = log.lastIndex(atOrBefore: append.previous.index, withTermAtMost: append.previous.term)
            let hint = LogPosition(index: agree, term: log.term(at: agree)!)
            send(to: primary, .appendResponse(AppendResponse(
                term: term, success: false, index: append.previous.index, durable: min(durableIndex, primaryMatch), hint: hint)))
            return
        }
        // Skip what the log already holds; the first entry that differs (same
        // index, other term) and everything after it are replaced.
        var entries = append.entries[...]
        while let first = entries.first, log.term(at: first.index) == first.term { entries = entries.dropFirst() }
        if let first = entries.first {
            var truncation: LogIndex?
            if first.index <= log.lastIndex {
                // A committed entry never differs from a legitimate primary's: refuse the message.
                guard first.index > commitIndex else { return }
                log.truncate(from: first.index)
                durableIndex = min(durableIndex, first.index.previous)
                truncation = first.index
            }
            for entry in entries { log.append(entry) }
            actions.append(.writeLog(truncatingFrom: truncation, entries: Array(entries)))
        }
        // The entries after the append's last may be an older term's: not known to match.
        primaryMatch = max(primaryMatch, append.previous.index + append.entries.count)
        commitIndex = max(commitIndex, min(append.commit, primaryMatch))
        respond(to: primary)
        applyCommitted()
    }

    /// Tells the primary how far this log matches its own, and how much of that is durable.
    mutating func respond(to primary: ReplicaID) {
        send(to: primary, .appendResponse(AppendResponse(
            term: term, success: true, index: primaryMatch, durable: min(durableIndex, primaryMatch))))
    }

    mutating func receiveSnapshot(from primary: ReplicaID, _ header: SnapshotHeader) {
        guard role != .primary else { return }
        becomeBackup(term: term, primary: primary)
        guard installingSnapshot == nil else { return }
        if header.position.index <= commitIndex {
            primaryMatch = max(primaryMatch, commitIndex)
            respond(to: primary)
            return
        }
        installingSnapshot = header
        actions.append(.installSnapshot(header, from: primary))
    }

    mutating func snapshotInstalled(_ header: SnapshotHeader) {
        guard installingSnapshot == header else { return }
        installingSnapshot = nil
        let position = header.position
        log.restart(at: position)
        appliedIndex = position.index
        commitIndex = max(commitIndex, position.index)
        durableIndex = min(max(durableIndex, position.index), log.lastIndex)
        if header.term == term { primaryMatch = max(primaryMatch, position.index) }
        if case .backup(let primary?) = role { respond(to: primary) }
        applyCommitted()
    }
}
