import NIOCore
import NetStoreCore
@testable import NetStoreProtocol
import Testing

/// CHECK_BLOCKS, REPAIR_BLOCK and REPLICA_GET_BLOCK: byte layout and what is refused.
@Suite struct BlockCheckWireTests {
    @Test func checkBlocksRequestBytes() throws {
        var buffer = ByteBuffer()
        FrameCodec.encode(RequestFrame(requestID: 7, request: .checkBlocks(after: Fixtures.block(0xAB), limit: 256)), into: &buffer)
        let payload = Array(buffer.readableBytesView.dropFirst(20))
        #expect(payload == [UInt8](repeating: 0xAB, count: 32) + [0, 0, 1, 0])
        #expect(buffer.getInteger(at: 8, as: UInt16.self) == 0x0408)
    }

    @Test func blockCheckReplyBytes() throws {
        var buffer = ByteBuffer()
        let page = BlockCheckPage(
            checked: 2, bytesChecked: 5, problems: [BlockProblem(id: Fixtures.block(1), kind: .corrupt)],
            last: Fixtures.block(2), isLast: true)
        FrameCodec.encode(ResponseFrame(requestID: 1, opcode: .checkBlocks, result: .success(.blockCheck(page))), into: &buffer)
        let payload = Array(buffer.readableBytesView.dropFirst(20))
        let expected: [UInt8] = [1] + [UInt8](repeating: 2, count: 32) + [0, 0, 0, 2] + [0, 0, 0, 0, 0, 0, 0, 5]
            + [0, 0, 0, 1] + [UInt8](repeating: 1, count: 32) + [2]
        #expect(payload == expected)
    }

    @Test func refusesALimitOutOfRange() {
        for limit in [UInt32(0), UInt32(Limits.maxHashesPerQuery + 1)] {
            var frame = rawFrame(opcode: Opcode.checkBlocks.rawValue) {
                $0.writeBytes([UInt8](repeating: 0, count: 32))
                $0.writeInteger(limit)
            }
            #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &frame) }
        }
    }

    @Test func refusesMoreProblemsThanBlocksChecked() {
        var frame = rawFrame(kind: 2, opcode: Opcode.checkBlocks.rawValue) {
            $0.writeInteger(UInt8(1))
            $0.writeBytes([UInt8](repeating: 0, count: 32))
            $0.writeInteger(UInt32(0))  // checked
            $0.writeInteger(UInt64(0))
            $0.writeInteger(UInt32(1))  // one problem
            $0.writeBytes([UInt8](repeating: 3, count: 32))
            $0.writeInteger(UInt8(1))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &frame) }
    }

    @Test func refusesAnUnknownProblemKind() {
        var frame = rawFrame(kind: 2, opcode: Opcode.checkBlocks.rawValue) {
            $0.writeInteger(UInt8(0))
            $0.writeBytes([UInt8](repeating: 0, count: 32))
            $0.writeInteger(UInt32(1))
            $0.writeInteger(UInt64(0))
            $0.writeInteger(UInt32(1))
            $0.writeBytes([UInt8](repeating: 3, count: 32))
            $0.writeInteger(UInt8(9))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextResponse(from: &frame) }
    }
}
