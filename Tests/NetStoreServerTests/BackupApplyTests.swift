import NetStoreReplication
import NetStoreStorage
import NetStoreTestSupport
import Testing
@testable import NetStoreServer

@Suite("A backup applies committed entries in batches")
struct BackupApplyTests {
    static let primary = ReplicaID(1)

    /// A backup; without `ticks`, only the events a test posts make passes.
    static func backup(batch: Int, ticks: Bool = false) throws -> ReplicaHarness {
        try ReplicaHarness("apply", id: ReplicaID(2), replicas: [primary, ReplicaID(2), ReplicaID(3)], writeQuorum: 2,
                           backupApplyBatch: batch, tickMilliseconds: ticks ? 10 : 3_600_000)
    }

    /// Entries `indexes` from the primary; every entry before them is of term 1.
    static func append(_ indexes: ClosedRange<UInt64>, term: UInt64 = 1, commit: UInt64) -> ReplicaEvent {
        .receive(from: primary, BackupAnswerTests.append(indexes, term: term, previousTerm: 1, commit: commit))
    }

    /// Waits until `condition` holds; generous, since the whole suite runs at once.
    static func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
        try #require(try await NetStoreTestSupport.waitUntil(condition), "not within 30 s: \(what)")
    }

    static func storedApplied(_ h: ReplicaHarness) throws -> UInt64 { try h.store.loadReplicationState().appliedIndex }

    /// Entries 1-4 in the log, 1-3 committed: held, none applied.
    static func holdingThreeCommitted(_ h: ReplicaHarness) async throws {
        h.engine.post(Self.append(1...3, commit: 0))
        h.engine.post(Self.append(4...4, commit: 3))
        try await Self.waitUntil("commit 3 known") { h.engine.status.commitIndex == 3 && h.engine.status.lastIndex == 4 }
        #expect(try Self.storedApplied(h) == 0)
    }

    /// A heartbeat: no entries, the commit index.
    static func heartbeat(after last: UInt64, term: UInt64 = 1, commit: UInt64) -> ReplicaEvent {
        .receive(from: primary, .append(AppendEntries(
            term: Term(term), previous: LogPosition(index: LogIndex(last), term: Term(1)), entries: [], commit: LogIndex(commit))))
    }

    @Test("committed entries are held while new ones come, until a batch is full, then applied together; STATUS reports what the store holds")
    func heldUntilTheBatchIsFull() async throws {
        let h = try Self.backup(batch: 5)
        // Three committed entries, fewer than a batch: in the log, not applied.
        try await Self.holdingThreeCommitted(h)
        #expect(h.engine.status.appliedIndex == 0, "STATUS says what the store has applied")
        #expect(try h.store.loadReplicationState().entries.count == 4)

        h.engine.post(Self.append(5...6, commit: 5))
        try await Self.waitUntil("a full batch applied") { try Self.storedApplied(h) == 5 }
        #expect(h.engine.status.appliedIndex == 5)
        try await h.close()
    }

    @Test("a heartbeat applies what is held: an idle primary's last changes are applied at once")
    func heartbeatApplies() async throws {
        let h = try Self.backup(batch: 1000)
        try await Self.holdingThreeCommitted(h)
        h.engine.post(Self.heartbeat(after: 4, commit: 4))
        try await Self.waitUntil("entries applied") { try Self.storedApplied(h) == 4 }
        #expect(h.engine.status.appliedIndex == 4)
        try await h.close()
    }

    @Test("a tick applies what is held, however busy the primary")
    func tickApplies() async throws {
        let h = try Self.backup(batch: 1000, ticks: true)
        h.engine.post(Self.append(1...3, commit: 0))
        h.engine.post(Self.append(4...4, commit: 3))
        try await Self.waitUntil("entries applied") { try Self.storedApplied(h) == 3 }
        #expect(h.engine.status.appliedIndex == 3)
        try await h.close()
    }

    @Test("a new term applies the held entries before the backup saves it, though new entries come with it")
    func newTermAppliesFirst() async throws {
        let h = try Self.backup(batch: 1000)
        try await Self.holdingThreeCommitted(h)
        // A new entry of the next term, from the primary that won it: a pass that
        // writes the log, which would hold the entries but for the new term.
        h.engine.post(Self.append(5...5, term: 2, commit: 3))
        try await Self.waitUntil("term 2 taken") { h.engine.status.term == 2 }
        #expect(try Self.storedApplied(h) == 3, "held entries applied before the new term was saved")
        #expect(try h.store.loadReplicationState().term == 2)
        try await h.close()
    }

    @Test("with a batch of one, each pass applies what is committed")
    func batchOfOne() async throws {
        let h = try Self.backup(batch: 1)
        h.engine.post(Self.append(1...3, commit: 0))
        h.engine.post(Self.append(4...4, commit: 3))
        try await Self.waitUntil("entries applied") { try Self.storedApplied(h) == 3 }
        try await h.close()
    }
}
