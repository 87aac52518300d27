import NIOCore
import NetStoreCore
import NetStoreReplication
import Testing
@testable import NetStoreProtocol

@Suite("Snapshot transfer on the wire, byte for byte")
struct SnapshotWireTests {
    static let sha = Fixtures.block(0xAB).bytes
    static let offer = SnapshotOffer(position: LogPosition(index: LogIndex(9), term: Term(2)), size: 70_000, sha256: sha)

    @Test func opcodesAreInTheirRange() {
        #expect(Opcode.snapshotBegin.rawValue == 0x0405)
        #expect(Opcode.snapshotChunk.rawValue == 0x0406)
    }

    @Test func beginCarriesThePositionSizeAndHash() throws {
        let payload = try ReplicationWireTests.payload(.snapshotBegin(from: 3, offer: Self.offer))
        #expect(payload == [0, 0, 0, 3] + ReplicationWireTests.u64(9) + ReplicationWireTests.u64(2)
            + ReplicationWireTests.u64(70_000) + Self.sha)
    }

    @Test func aChunkCarriesTheHashOffsetAndBytes() throws {
        let payload = try ReplicationWireTests.payload(
            .snapshotChunk(from: 2, sha256: Self.sha, offset: 65_536, data: ByteBuffer(bytes: [7, 8, 9])))
        #expect(payload == [0, 0, 0, 2] + Self.sha + ReplicationWireTests.u64(65_536) + [0, 0, 0, 3, 7, 8, 9])
    }

    @Test func theAnswerIsTheByteCountHeld() throws {
        for opcode in [Opcode.snapshotBegin, .snapshotChunk] {
            #expect(try ReplicationWireTests.payload(.snapshotReceived(0x0102), answering: opcode)
                == ReplicationWireTests.u64(0x0102))
        }
    }

    @Test func bothRoundTrip() throws {
        let requests: [Request] = [
            .snapshotBegin(from: 1, offer: Self.offer),
            .snapshotChunk(from: 1, sha256: Self.sha, offset: .max, data: ByteBuffer(bytes: [UInt8](repeating: 1, count: Limits.maxBlockSize))),
        ]
        for request in requests {
            var buffer = Fixtures.encoded(RequestFrame(requestID: 7, request: request))
            let decoded = try FrameDecoder().nextRequest(from: &buffer)
            #expect(decoded?.request == request)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func aChunkTooBigOrAHashOfTheWrongLengthIsNotSent() {
        for request in [
            Request.snapshotChunk(from: 1, sha256: Self.sha, offset: 0, data: ByteBuffer(bytes: [UInt8](repeating: 1, count: Limits.maxBlockSize + 1))),
            Request.snapshotChunk(from: 1, sha256: [1, 2, 3], offset: 0, data: ByteBuffer()),
        ] {
            var buffer = ByteBuffer()
            #expect(throws: NetStoreError.self) { try FrameCodec.tryEncode(RequestFrame(requestID: 1, request: request), into: &buffer) }
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func truncatedLongOrOversizedPayloadsAreMalformed() throws {
        let valid = try ReplicationWireTests.payload(
            .snapshotChunk(from: 2, sha256: Self.sha, offset: 1, data: ByteBuffer(bytes: [7, 8, 9])))
        let begin = try ReplicationWireTests.payload(.snapshotBegin(from: 3, offer: Self.offer))
        var cases: [(UInt16, [UInt8])] = []
        for cut in 0..<valid.count { cases.append((Opcode.snapshotChunk.rawValue, Array(valid.prefix(cut)))) }
        for cut in 0..<begin.count { cases.append((Opcode.snapshotBegin.rawValue, Array(begin.prefix(cut)))) }
        cases.append((Opcode.snapshotChunk.rawValue, valid + [0]))
        cases.append((Opcode.snapshotBegin.rawValue, begin + [0]))
        // A chunk that claims more than a block's worth of bytes.
        let oversized = [0, 0, 0, 2] + Self.sha + ReplicationWireTests.u64(0) + [0x7F, 0xFF, 0xFF, 0xFF]
        cases.append((Opcode.snapshotChunk.rawValue, oversized))
        for (opcode, payload) in cases {
            var frame = rawFrame(opcode: opcode) { $0.writeBytes(payload) }
            #expect(throws: ProtocolError.self, "\(payload.count) bytes") { try FrameDecoder().nextRequest(from: &frame) }
        }
        // An answer with bytes missing or left over is malformed too.
        for payload in [[UInt8](), [0, 0, 0, 0, 0, 0, 0, 1, 2]] {
            var frame = rawFrame(kind: 2, opcode: Opcode.snapshotBegin.rawValue) { $0.writeBytes(payload) }
            #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &frame) }
        }
    }
}
