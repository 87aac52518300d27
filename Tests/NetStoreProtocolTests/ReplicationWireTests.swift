import NIOCore
import NetStoreCore
import NetStoreReplication
import Testing
@testable import NetStoreProtocol

@Suite("Replication and status on the wire, byte for byte")
struct ReplicationWireTests {
    static func payload(_ response: Response, answering opcode: Opcode) throws -> [UInt8] {
        let frame = ResponseFrame(requestID: 1, opcode: opcode, result: .success(response))
        let bytes = Array(Fixtures.encoded(frame).readableBytesView)
        return Array(bytes[20...])
    }

    static func payload(_ request: Request) throws -> [UInt8] {
        let bytes = Array(Fixtures.encoded(RequestFrame(requestID: 1, request: request)).readableBytesView)
        #expect(bytes[8] == UInt8(request.opcode.rawValue >> 8) && bytes[9] == UInt8(request.opcode.rawValue & 0xFF))
        return Array(bytes[20...])
    }

    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    @Test func statusCarriesTheReplicationPosition() throws {
        let status = ServerStatus(role: "backup", softwareVersion: "1", uptimeSeconds: 2, nodeCount: 3, userCount: 4,
                                  blockCount: 5, blockBytes: 6, term: 7, lastIndex: 8, commitIndex: 9, appliedIndex: 10)
        let expected: [UInt8] = [0, 6] + Array("backup".utf8) + [0, 1, UInt8(ascii: "1")]
            + (2...10).flatMap { Self.u64(UInt64($0)) }
        #expect(try Self.payload(.status(status), answering: .status) == expected)
    }

    @Test func anAppendWithEntries() throws {
        let append = AppendEntries(
            term: Term(3), previous: LogPosition(index: LogIndex(9), term: Term(2)),
            entries: [LogEntry(term: Term(3), index: LogIndex(10), payload: [0xAB])], commit: LogIndex(8))
        let expected: [UInt8] = [0, 0, 0, 2, 1] + Self.u64(3) + Self.u64(9) + Self.u64(2) + Self.u64(8)
            + [0, 0, 0, 1] + Self.u64(10) + Self.u64(3) + [0, 0, 0, 1, 0xAB]
        #expect(try Self.payload(.replicate(from: 2, message: .append(append))) == expected)
        #expect(Opcode.replicate.rawValue == 0x0401)
    }

    @Test func anAppendWithCarriedBlocks() throws {
        let append = AppendEntries(
            term: Term(3), previous: LogPosition(index: LogIndex(9), term: Term(2)),
            entries: [LogEntry(term: Term(3), index: LogIndex(10), payload: [0xAB])], commit: LogIndex(8))
        let blocks = [CarriedBlock(id: Fixtures.block(1), data: ByteBuffer(bytes: [7, 8, 9]))]
        let expected: [UInt8] = [0, 0, 0, 2] + [0, 0, 0, 1] + Fixtures.block(1).bytes + [0, 0, 0, 3, 7, 8, 9]
            + [1] + Self.u64(3) + Self.u64(9) + Self.u64(2) + Self.u64(8)
            + [0, 0, 0, 1] + Self.u64(10) + Self.u64(3) + [0, 0, 0, 1, 0xAB]
        #expect(try Self.payload(.replicateWithBlocks(from: 2, blocks: blocks, message: .append(append))) == expected)
        #expect(Opcode.replicateWithBlocks.rawValue == 0x040B)
        #expect(try Self.payload(.blocksNeeded([]), answering: .replicateWithBlocks) == [0, 0, 0, 0])
    }

    @Test func tooManyCarriedBlocksAreRefusedBothWays() throws {
        let blocks = Array(repeating: CarriedBlock(id: Fixtures.block(1), data: ByteBuffer()), count: Limits.maxCarriedBlocks + 1)
        let message = ReplicationMessage.append(AppendEntries(term: Term(1), previous: .zero, entries: [], commit: .zero))
        #expect(throws: NetStoreError.self) {
            var buffer = ByteBuffer()
            try RequestCodec.writePayload(of: .replicateWithBlocks(from: 1, blocks: blocks, message: message), into: &buffer)
        }
        var frame = rawFrame(opcode: Opcode.replicateWithBlocks.rawValue) { buffer in
            buffer.writeInteger(UInt32(1))
            buffer.writeInteger(UInt32(Limits.maxCarriedBlocks + 1))
            for _ in 0...Limits.maxCarriedBlocks {
                buffer.writeBytes(Fixtures.block(1).bytes)
                buffer.writeInteger(UInt32(0))
            }
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &frame) }
        // A count the payload cannot back.
        var short = rawFrame(opcode: Opcode.replicateWithBlocks.rawValue) { buffer in
            buffer.writeInteger(UInt32(1))
            buffer.writeInteger(UInt32(3))
            buffer.writeBytes(Fixtures.block(1).bytes)
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &short) }
    }

    @Test func votesAndResponses() throws {
        let vote = VoteRequest(term: Term(5), last: LogPosition(index: LogIndex(3), term: Term(4)), preVote: true)
        #expect(try Self.payload(.replicate(from: 1, message: .voteRequest(vote)))
            == [0, 0, 0, 1, 4] + Self.u64(5) + Self.u64(3) + Self.u64(4) + [1])
        let response = AppendResponse(term: Term(4), success: true, index: LogIndex(7), durable: LogIndex(6),
                                      hint: LogPosition(index: LogIndex(1), term: Term(1)))
        #expect(try Self.payload(.replicate(from: 3, message: .appendResponse(response)))
            == [0, 0, 0, 3, 2] + Self.u64(4) + [1] + Self.u64(7) + Self.u64(6) + Self.u64(1) + Self.u64(1))
        // The same message as a notice: the same payload under its own opcode, and no reply to read.
        #expect(try Self.payload(.replicateNotice(from: 3, message: .appendResponse(response)))
            == [0, 0, 0, 3, 2] + Self.u64(4) + [1] + Self.u64(7) + Self.u64(6) + Self.u64(1) + Self.u64(1))
        #expect(Opcode.replicateNotice.rawValue == 0x040C)
        // A success reply to a notice is never sent; one that comes is malformed. A refusal is an error frame.
        var reply = rawFrame(kind: 2, opcode: Opcode.replicateNotice.rawValue)
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &reply) }
        var refusal = rawFrame(kind: 2, opcode: Opcode.replicateNotice.rawValue, status: ErrorCode.accessDenied.rawValue, requestID: 0) {
            try? $0.writeString16("no", .message)
        }
        let refused = try #require(try FrameDecoder().nextResponse(from: &refusal))
        #expect(refused.requestID == 0 && refused.result == .failure(NetStoreError(.accessDenied, "no")))
        #expect(try Self.payload(.blocksNeeded([Fixtures.block(1)]), answering: .replicate)
            == [0, 0, 0, 1] + Fixtures.block(1).bytes)
        #expect(try Self.payload(.digest(StateDigest(appliedIndex: 2, sha256: Fixtures.block(3).bytes)), answering: .digest)
            == Self.u64(2) + Fixtures.block(3).bytes)
    }

    @Test func anUnknownMessageKindIsMalformed() throws {
        var frame = rawFrame(opcode: Opcode.replicate.rawValue) { buffer in
            buffer.writeInteger(UInt32(1))
            buffer.writeInteger(UInt8(9))
            buffer.writeInteger(UInt64(1))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &frame) }
    }
}
