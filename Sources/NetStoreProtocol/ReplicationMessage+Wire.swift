import NIOCore
import NetStoreCore
import NetStoreReplication

// The `replicate` request's message (docs/protocol.md, "Replication messages"):
// a kind byte, then the fields big-endian; positions are index u64, term u64.
enum ReplicationMessageKind: UInt8 {
    case append = 1, appendResponse = 2, installSnapshot = 3, voteRequest = 4, voteResponse = 5
}

extension ByteBuffer {
    mutating func writePosition(_ position: LogPosition) {
        writeInteger(position.index.rawValue)
        writeInteger(position.term.rawValue)
    }

    mutating func writeReplicationMessage(_ message: ReplicationMessage) throws(NetStoreError) {
        switch message {
        case .append(let m):
            writeInteger(ReplicationMessageKind.append.rawValue)
            writeInteger(m.term.rawValue)
            writePosition(m.previous)
            writeInteger(m.commit.rawValue)
            try writeCount(m.entries.count, .logEntries)
            for entry in m.entries {
                writeInteger(entry.index.rawValue)
                writeInteger(entry.term.rawValue)
                guard entry.payload.count <= FieldLimit.entryPayload.limit else {
                    throw NetStoreError(.invalid, "log entry \(entry.index) of \(entry.payload.count) bytes is too long for a frame")
                }
                writeInteger(UInt32(entry.payload.count))
                writeBytes(entry.payload)
            }
        case .appendResponse(let m):
            writeInteger(ReplicationMessageKind.appendResponse.rawValue)
            writeInteger(m.term.rawValue)
            writeBool(m.success)
            writeInteger(m.index.rawValue)
            writeInteger(m.durable.rawValue)
            writePosition(m.hint)
        case .installSnapshot(let m):
            writeInteger(ReplicationMessageKind.installSnapshot.rawValue)
            writeInteger(m.term.rawValue)
            writePosition(m.position)
        case .voteRequest(let m):
            writeInteger(ReplicationMessageKind.voteRequest.rawValue)
            writeInteger(m.term.rawValue)
            writePosition(m.last)
            writeBool(m.preVote)
        case .voteResponse(let m):
            writeInteger(ReplicationMessageKind.voteResponse.rawValue)
            writeInteger(m.term.rawValue)
            writeBool(m.granted)
            writeBool(m.preVote)
            writePosition(m.voterLast)
        }
    }
}

extension PayloadReader {
    mutating func position(_ what: String) throws(ProtocolError) -> LogPosition {
        let index = try u64(what)
        return LogPosition(index: LogIndex(index), term: Term(try u64(what)))
    }

    mutating func replicationMessage() throws(ProtocolError) -> ReplicationMessage {
        let raw = try u8("a replication message kind")
        guard let kind = ReplicationMessageKind(rawValue: raw) else {
            throw ProtocolError("unknown replication message kind \(raw)")
        }
        let term = Term(try u64("a term"))
        switch kind {
        case .append:
            let previous = try position("the previous position")
            let commit = LogIndex(try u64("the commit index"))
            let count = try count(.logEntries, minElementSize: 20)
            var entries: [LogEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let at = try position("a log entry's position")
                var payload = try bytes32(.entryPayload)
                entries.append(LogEntry(term: at.term, index: at.index, payload: payload.readBytes(length: payload.readableBytes)!))
            }
            return .append(AppendEntries(term: term, previous: previous, entries: entries, commit: commit))
        case .appendResponse:
            let success = try bool("success")
            let index = LogIndex(try u64("an index"))
            let durable = LogIndex(try u64("the durable index"))
            return .appendResponse(AppendResponse(
                term: term, success: success, index: index, durable: durable, hint: try position("the hint")))
        case .installSnapshot:
            return .installSnapshot(SnapshotHeader(term: term, position: try position("the snapshot position")))
        case .voteRequest:
            let last = try position("the last position")
            return .voteRequest(VoteRequest(term: term, last: last, preVote: try bool("pre-vote")))
        case .voteResponse:
            let granted = try bool("granted")
            let preVote = try bool("pre-vote")
            return .voteResponse(VoteResponse(term: term, granted: granted, preVote: preVote, voterLast: try position("the voter's last position")))
        }
    }
}
