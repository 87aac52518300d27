import NIOCore
import NetStoreCore
@testable import NetStoreProtocol
import Testing

/// WATCH and CHANGES: byte layout (docs/protocol.md, "Change notices") and what is refused.
@Suite struct ChangeNoticeWireTests {
    @Test func watchRequestBytes() throws {
        let frame = RequestFrame(requestID: 3, request: .watch)
        let expected = ByteBuffer(hex: "00000010 4e53 01 01 0600 0000 0000000000000003")
        #expect(Fixtures.encoded(frame) == expected)
        var input = expected
        #expect(try FrameDecoder().nextRequest(from: &input) == frame)
    }

    @Test func changesFrameBytes() throws {
        let frame = ResponseFrame(
            requestID: ChangeNotice.frameRequestID, opcode: .changes,
            result: .success(.changes([.node(0x2A), .entry(parent: 1, name: "a.txt"), .reset, .ended])))
        let expected = ByteBuffer(hex: """
            0000002f 4e53 01 02 0601 0000 ffffffffffffffff
            00000004
            01 000000000000002a
            02 0000000000000001 0005 612e747874
            03
            04
            """)
        let actual = Fixtures.encoded(frame)
        #expect(actual == expected, "\(actual.hexDump)")
        var input = expected
        #expect(try FrameDecoder().nextResponse(from: &input) == frame)
        #expect(input.readableBytes == 0)
    }

    @Test func aFullFrameOfLongestEntriesFitsTheFrameLimit() throws {
        let name = String(repeating: "n", count: Limits.maxNameLength)
        let notices = Array(repeating: ChangeNotice.entry(parent: .max, name: name), count: Limits.maxNoticesPerFrame)
        let frame = ResponseFrame(requestID: ChangeNotice.frameRequestID, opcode: .changes, result: .success(.changes(notices)))
        var buffer = ByteBuffer()
        try FrameCodec.tryEncode(frame, into: &buffer)
        #expect(try FrameDecoder().nextResponse(from: &buffer) == frame)
    }

    @Test func tooManyNoticesAreRefusedBothWays() throws {
        let notices = Array(repeating: ChangeNotice.reset, count: Limits.maxNoticesPerFrame + 1)
        var buffer = ByteBuffer()
        #expect(throws: NetStoreError.self) {
            try FrameCodec.tryEncode(
                ResponseFrame(requestID: ChangeNotice.frameRequestID, opcode: .changes, result: .success(.changes(notices))),
                into: &buffer)
        }
        #expect(buffer.readableBytes == 0)
        var frame = changes {
            $0.writeInteger(UInt32(Limits.maxNoticesPerFrame + 1))
            $0.writeBytes([UInt8](repeating: 3, count: Limits.maxNoticesPerFrame + 1))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &frame) }
    }

    @Test func aNameOverItsLimitIsRefusedBothWays() throws {
        let long = String(repeating: "x", count: Limits.maxNameLength + 1)
        var buffer = ByteBuffer()
        #expect(throws: NetStoreError.self) {
            try FrameCodec.tryEncode(
                ResponseFrame(requestID: ChangeNotice.frameRequestID, opcode: .changes,
                              result: .success(.changes([.entry(parent: 1, name: long)]))),
                into: &buffer)
        }
        #expect(buffer.readableBytes == 0)
        var frame = changes {
            $0.writeInteger(UInt32(1))
            $0.writeInteger(UInt8(2))
            $0.writeInteger(UInt64(1))
            $0.writeInteger(UInt16(Limits.maxNameLength + 1))
            $0.writeBytes([UInt8](repeating: 0x78, count: Limits.maxNameLength + 1))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &frame) }
    }

    @Test(arguments: [UInt8(0), 5, 0xFF])
    func unknownNoticeKind(_ kind: UInt8) {
        var frame = changes {
            $0.writeInteger(UInt32(1))
            $0.writeInteger(kind)
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &frame) }
    }

    @Test func truncatedAndOverlongNotices() {
        // A node notice cut short, a count that promises more than is there, a byte left over.
        let payloads: [[UInt8]] = [
            [0, 0, 0, 1, 1, 0, 0, 0],
            [0, 0, 0, 2, 3],
            [0, 0, 0, 1, 3, 0],
            [0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0x61],
        ]
        for payload in payloads {
            var frame = changes { $0.writeBytes(payload) }
            #expect(throws: ProtocolError.self, "\(payload)") { try FrameDecoder().nextResponse(from: &frame) }
        }
    }

    @Test func changesMustCarryTheReservedIDAndNoError() {
        var otherID = rawFrame(kind: 2, opcode: Opcode.changes.rawValue, requestID: 0) { $0.writeInteger(UInt32(0)) }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &otherID) }
        var error = rawFrame(
            kind: 2, opcode: Opcode.changes.rawValue, status: ErrorCode.io.rawValue,
            requestID: ChangeNotice.frameRequestID
        ) { $0.writeInteger(UInt16(0)) }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &error) }
    }

    @Test func changesIsNeverARequest() {
        var frame = rawFrame(kind: 1, opcode: Opcode.changes.rawValue, requestID: ChangeNotice.frameRequestID) {
            $0.writeInteger(UInt32(0))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &frame) }
    }

    @Test func watchCarriesNoPayload() {
        var frame = rawFrame(kind: 1, opcode: Opcode.watch.rawValue) { $0.writeInteger(UInt8(0)) }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &frame) }
    }

    private func changes(_ payload: (inout ByteBuffer) -> Void) -> ByteBuffer {
        rawFrame(kind: 2, opcode: Opcode.changes.rawValue, requestID: ChangeNotice.frameRequestID, payload: payload)
    }
}
