import NetStoreReplication
import Testing

/// One replica at a time, asserting on the exact actions it returns: the ordering
/// rules the I/O layer relies on.
@Suite("Replica actions")
struct ReplicaActionTests {
    let r1 = ReplicaID(1), r2 = ReplicaID(2), r3 = ReplicaID(3)
    var configuration: ReplicationConfiguration { ReplicationConfiguration(replicas: [r1, r2, r3]) }

    /// r1 as primary of term 1 with its term-start entry durable and known to both backups.
    func primary() -> Replica {
        var replica = Replica(id: r1, configuration: configuration)
        _ = replica.handle(.promote)
        for voter in [r2, r3] {
            _ = replica.handle(.receive(from: voter, .voteResponse(VoteResponse(term: Term(1), granted: true, preVote: true, voterLast: .zero))))
        }
        _ = replica.handle(.receive(from: r2, .voteResponse(VoteResponse(term: Term(1), granted: true, preVote: false, voterLast: .zero))))
        let start = LogPosition(index: LogIndex(1), term: Term(1))
        _ = replica.handle(.persisted(through: start))
        for backup in [r2, r3] {
            _ = replica.handle(.receive(from: backup, .appendResponse(AppendResponse(term: Term(1), success: true, index: start.index, durable: start.index))))
        }
        return replica
    }

    @Test("promotion persists the new term and vote before asking for votes, and the term-start entry before acting as primary")
    func promotionOrder() {
        var replica = Replica(id: r1, configuration: configuration)
        let ask = replica.handle(.promote)
        #expect(ask == [
            .send(to: r2, .voteRequest(VoteRequest(term: Term(1), last: .zero, preVote: true))),
            .send(to: r3, .voteRequest(VoteRequest(term: Term(1), last: .zero, preVote: true))),
        ])
        let real = replica.handle(.receive(from: r2, .voteResponse(VoteResponse(term: Term(1), granted: true, preVote: true, voterLast: .zero))))
        #expect(real.first == .persistHardState(HardState(term: Term(1), votedFor: r1)))
        #expect(real.contains(.send(to: r3, .voteRequest(VoteRequest(term: Term(1), last: .zero, preVote: false)))))
        let won = replica.handle(.receive(from: r3, .voteResponse(VoteResponse(term: Term(1), granted: true, preVote: false, voterLast: .zero))))
        let start = LogEntry(term: Term(1), index: LogIndex(1), payload: [])
        #expect(won.first == .roleChanged(.primary, term: Term(1)))
        #expect(won.contains(.writeLog(truncatingFrom: nil, entries: [start])))
        #expect(won.last == .promotionFinished(.promoted(term: Term(1))))
    }

    @Test("group commit: proposals that arrive together share one log write, one message per backup and one acknowledgement round")
    func groupCommit() {
        var replica = primary()
        let proposals = (1...3).map { Proposal(payload: [UInt8($0)], token: ProposalToken(UInt64($0))) }
        let actions = replica.handle(.propose(proposals))
        let entries = (1...3).map { LogEntry(term: Term(1), index: LogIndex(UInt64($0) + 1), payload: [UInt8($0)]) }
        let append = AppendEntries(term: Term(1), previous: LogPosition(index: LogIndex(1), term: Term(1)), entries: entries, commit: LogIndex(1))
        // The write comes first; the sends need not wait for it (the fsyncs run in parallel).
        #expect(actions == [
            .writeLog(truncatingFrom: nil, entries: entries),
            .send(to: r2, .append(append)),
            .send(to: r3, .append(append)),
        ])
        // A backup's durable answer alone is not enough: the primary's own fsync counts too.
        let backupDurable = replica.handle(.receive(from: r2, .appendResponse(AppendResponse(term: Term(1), success: true, index: LogIndex(4), durable: LogIndex(4)))))
        #expect(!backupDurable.contains { if case .acknowledge = $0 { true } else { false } })
        let own = replica.handle(.persisted(through: LogPosition(index: LogIndex(4), term: Term(1))))
        #expect(own == [
            .acknowledge(ProposalToken(1), LogPosition(index: LogIndex(2), term: Term(1))),
            .acknowledge(ProposalToken(2), LogPosition(index: LogIndex(3), term: Term(1))),
            .acknowledge(ProposalToken(3), LogPosition(index: LogIndex(4), term: Term(1))),
            .apply(entries),
        ])
    }

    @Test("a backup answers at once with what it matched, and claims durability only after its fsync")
    func backupAnswersAfterFsync() {
        var backup = Replica(id: r2, configuration: configuration)
        let entry = LogEntry(term: Term(1), index: LogIndex(1), payload: [])
        let received = backup.handle(.receive(from: r1, .append(AppendEntries(term: Term(1), previous: .zero, entries: [entry], commit: .zero))))
        #expect(received == [
            .persistHardState(HardState(term: Term(1))),
            .roleChanged(.backup(primary: r1), term: Term(1)),
            .writeLog(truncatingFrom: nil, entries: [entry]),
            .send(to: r1, .appendResponse(AppendResponse(term: Term(1), success: true, index: LogIndex(1), durable: .zero))),
        ])
        let synced = backup.handle(.persisted(through: entry.position))
        #expect(synced == [.send(to: r1, .appendResponse(AppendResponse(term: Term(1), success: true, index: LogIndex(1), durable: LogIndex(1))))])
    }

    @Test("a backup replaces a diverging suffix and points the primary at where the logs may agree")
    func divergence() {
        let old = (1...3).map { LogEntry(term: Term(1), index: LogIndex(UInt64($0)), payload: [UInt8($0)]) }
        var backup = Replica(id: r2, configuration: configuration, restoring: PersistentState(hardState: HardState(term: Term(2)), entries: old))
        // The primary of term 2 probes after its own #3, of term 2: r2's #3 is of term 1.
        let refused = backup.handle(.receive(from: r3, .append(AppendEntries(
            term: Term(2), previous: LogPosition(index: LogIndex(3), term: Term(2)), entries: [], commit: LogIndex(1)))))
        #expect(refused.last == .send(to: r3, .appendResponse(AppendResponse(
            term: Term(2), success: false, index: LogIndex(3), durable: .zero, hint: LogPosition(index: LogIndex(3), term: Term(1))))))
        let newer = LogEntry(term: Term(2), index: LogIndex(3), payload: [9])
        let replaced = backup.handle(.receive(from: r3, .append(AppendEntries(
            term: Term(2), previous: LogPosition(index: LogIndex(2), term: Term(1)), entries: [newer], commit: LogIndex(1)))))
        #expect(replaced.first == .writeLog(truncatingFrom: LogIndex(3), entries: [newer]))
        #expect(backup.durableIndex == LogIndex(2))
    }

    @Test("a backup refuses proposals and names the primary it follows")
    func backupRefusesProposals() {
        var backup = Replica(id: r2, configuration: configuration)
        _ = backup.handle(.receive(from: r1, .append(AppendEntries(term: Term(1), previous: .zero, entries: [], commit: .zero))))
        let actions = backup.handle(.propose([Proposal(payload: [1], token: ProposalToken(7))]))
        #expect(actions == [.failProposal(ProposalToken(7), .notPrimary(primary: r1))])
    }
}
