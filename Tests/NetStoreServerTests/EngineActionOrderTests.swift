import NetStoreReplication
import Testing
@testable import NetStoreServer

@Suite("The order the engine carries out a replica's actions in")
struct EngineActionOrderTests {
    static let entry = LogEntry(term: Term(2), index: LogIndex(5), payload: [1])
    static let write = ReplicaAction.writeLog(truncatingFrom: nil, entries: [entry])
    static func send(_ to: UInt32) -> ReplicaAction {
        .send(to: ReplicaID(to), .append(AppendEntries(
            term: Term(2), previous: LogPosition(index: LogIndex(4), term: Term(2)), entries: [entry], commit: LogIndex(4))))
    }

    @Test("the appends after a log write go out before it; other actions keep their places")
    func appendsBeforeTheLogWrite() {
        let apply = ReplicaAction.apply([Self.entry])
        #expect(ReplicationEngine.sendingFirst([Self.write, Self.send(2), Self.send(3), apply])
            == [Self.send(2), Self.send(3), Self.write, apply])
        #expect(ReplicationEngine.sendingFirst([apply, Self.write]) == [apply, Self.write])
    }

    @Test("a backup's answer stays after its log write")
    func answerAfterTheLogWrite() {
        let answer = ReplicaAction.send(to: ReplicaID(1), .appendResponse(AppendResponse(
            term: Term(2), success: true, index: LogIndex(5), durable: LogIndex(4))))
        #expect(ReplicationEngine.sendingFirst([Self.write, answer]) == [Self.write, answer])
    }

    @Test("a send after saving the term and vote stays after it (a vote is granted only once saved)")
    func hardStateStaysFirst() {
        let hard = ReplicaAction.persistHardState(HardState(term: Term(3), votedFor: ReplicaID(2)))
        #expect(ReplicationEngine.sendingFirst([hard, Self.write, Self.send(2)]) == [hard, Self.send(2), Self.write])
        #expect(ReplicationEngine.sendingFirst([Self.write, hard, Self.send(2)]) == [Self.write, hard, Self.send(2)])
    }
}
