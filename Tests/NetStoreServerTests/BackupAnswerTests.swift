import NetStoreReplication
import Testing
@testable import NetStoreServer

@Suite("A backup's answers to appends")
struct BackupAnswerTests {
    static let primary = ReplicaID(1)

    /// Entries `indexes` of `term` after an entry of `previousTerm` (`term` if
    /// nil); index 1 starts the term, the others carry bytes that are no
    /// mutation (applied as refused, the same everywhere).
    static func append(_ indexes: ClosedRange<UInt64>, term: UInt64 = 1, previousTerm: UInt64? = nil,
                       commit: UInt64 = 0) -> ReplicationMessage {
        let first = LogIndex(indexes.lowerBound)
        let previous = LogPosition(index: first.previous, term: first.previous.rawValue == 0 ? Term(0) : Term(previousTerm ?? term))
        let entries = indexes.map { LogEntry(term: Term(term), index: LogIndex($0), payload: $0 == 1 ? [] : [UInt8($0)]) }
        return .append(AppendEntries(term: Term(term), previous: previous, entries: entries, commit: LogIndex(commit)))
    }

    static func answer(_ index: UInt64, durable: UInt64, term: UInt64 = 1, success: Bool = true) -> ReplicaAction {
        .send(to: primary, .appendResponse(AppendResponse(
            term: Term(term), success: success, index: LogIndex(index), durable: LogIndex(durable))))
    }

    @Test("a later success of the same term replaces a held one; other terms and refusals keep their order")
    func heldAnswers() {
        var held = HeldAnswers()
        #expect(held.hold(Self.answer(3, durable: 2)) == [])
        #expect(held.hold(Self.answer(3, durable: 3)) == [])
        #expect(held.hold(Self.answer(3, durable: 3, success: false)) == nil, "a refusal is not held")
        #expect(held.hold(.send(to: Self.primary, .append(Self.appendMessageBody))) == nil)
        #expect(held.hold(Self.answer(4, durable: 4, term: 2)) == [Self.answer(3, durable: 3)],
                "an answer of an earlier term goes out before one of the next")
        #expect(held.hold(.send(to: ReplicaID(3), .appendResponse(AppendResponse(
            term: Term(2), success: true, index: LogIndex(1), durable: LogIndex(1))))) == [])
        #expect(held.release(to: Self.primary) == [Self.answer(4, durable: 4, term: 2)])
        #expect(held.release(to: Self.primary) == [])
        #expect(held.releaseAll().count == 1)
        #expect(held.isEmpty)
    }

    static var appendMessageBody: AppendEntries {
        AppendEntries(term: Term(1), previous: .zero, entries: [], commit: LogIndex(0))
    }

    @Test("a backup answers each append once, when its entries are durable")
    func oneAnswerPerAppend() async throws {
        let h = try ReplicaHarness("answers", id: ReplicaID(2), replicas: [ReplicaID(1), ReplicaID(2), ReplicaID(3)], writeQuorum: 2)
        let transport = h.transport
        func answers() -> [AppendResponse] {
            transport.sent.withLock { sent in
                sent.compactMap { if case .appendResponse(let r) = $0.message, $0.to == Self.primary { r } else { nil } }
            }
        }
        func waitForDurable(_ index: UInt64) async throws {
            // Generous: the whole suite runs at once on two cores, each write fsync'd.
            let deadline = ContinuousClock.now + .seconds(30)
            while !answers().contains(where: { $0.durable == LogIndex(index) }) {
                try #require(ContinuousClock.now < deadline, "no answer durable through \(index): \(answers())")
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        h.engine.post(.receive(from: Self.primary, Self.append(1...2)))
        try await waitForDurable(2)
        h.engine.post(.receive(from: Self.primary, Self.append(3...3)))
        try await waitForDurable(3)
        #expect(answers().map { [$0.index.rawValue, $0.durable.rawValue] } == [[2, 2], [3, 3]],
                "no answer before the write that makes the entries durable")
        try await h.close()
    }
}
