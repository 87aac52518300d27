import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

/// Frames compared byte for byte with hex written by hand from docs/protocol.md.
@Suite struct GoldenBytesTests {
    private func expectRequest(_ frame: RequestFrame, _ hex: String) throws {
        let expected = ByteBuffer(hex: hex)
        let actual = Fixtures.encoded(frame)
        #expect(actual == expected, "\(actual.hexDump)\n!=\n\(expected.hexDump)")
        var input = expected
        #expect(try FrameDecoder().nextRequest(from: &input) == frame)
        #expect(input.readableBytes == 0)
    }

    private func expectResponse(_ frame: ResponseFrame, _ hex: String) throws {
        let expected = ByteBuffer(hex: hex)
        let actual = Fixtures.encoded(frame)
        #expect(actual == expected, "\(actual.hexDump)\n!=\n\(expected.hexDump)")
        var input = expected
        #expect(try FrameDecoder().nextResponse(from: &input) == frame)
        #expect(input.readableBytes == 0)
    }

    @Test func ping() throws {
        try expectRequest(RequestFrame(requestID: 1, request: .ping), """
            00000010 4e53 01 01 0001 0000 0000000000000001
            """)
    }

    @Test func lookup() throws {
        try expectRequest(RequestFrame(requestID: 7, request: .lookup(parent: 1, name: "a.txt")), """
            0000001f 4e53 01 01 0101 0000 0000000000000007
            0000000000000001 0005 612e747874
            """)
    }

    @Test func commitWithTwoBlocks() throws {
        let request = Request.commit(
            node: 42, baseVersion: 3, size: 0x100001, blocks: [Fixtures.block(0xAA), Fixtures.block(0xBB)])
        try expectRequest(RequestFrame(requestID: 0x0102_0304_0506_0708, request: request), """
            0000006c 4e53 01 01 0204 0000 0102030405060708
            000000000000002a 0000000000000003 0000000000100001
            00000002
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
            """)
    }

    @Test func setattrMaskAndTimeChanges() throws {
        let changes = SetAttributes(mode: 0o600, size: 0, atime: .now, mtime: .nanoseconds(123))
        try expectRequest(RequestFrame(requestID: 2, request: .setattr(node: 5, changes: changes)), """
            0000003f 4e53 01 01 010d 0000 0000000000000002
            0000000000000005 09 00000180 00000000 00000000 0000000000000000
            01 0000000000000000
            02 000000000000007b
            """)
    }

    @Test func attributesResponse() throws {
        let frame = ResponseFrame(requestID: 9, opcode: .getattr, result: .success(.attributes(Fixtures.attributes)))
        try expectResponse(frame, """
            00000059 4e53 01 02 0102 0000 0000000000000009
            0000000000000005 01 000001a4 000003e8 000003e8 00000001 0000000000001000
            000000003b9aca00 0000000077359400 ffffffffffffffff 0000000000000002
            0000000000000000
            """)
    }

    @Test func contentWithItsBlock() throws {
        try expectRequest(RequestFrame(requestID: 2, request: .getContentInline(node: 9)), """
            00000018 4e53 01 01 0501 0000 0000000000000002
            0000000000000009
            """)
        let content = FileContent(version: 3, size: 3, blocks: [Fixtures.block(0x22)])
        let frame = ResponseFrame(
            requestID: 2, opcode: .getContentInline, result: .success(.contentInline(content, data: ByteBuffer(bytes: [1, 2, 3]))))
        try expectResponse(frame, """
            0000004b 4e53 01 02 0501 0000 0000000000000002
            0000000000000003 0000000000000003 00000001
            2222222222222222222222222222222222222222222222222222222222222222
            00000003 010203
            """)
    }

    @Test func deviceAttributesCarryRdev() throws {
        let character = NodeAttributes(
            id: 7, kind: .characterDevice, mode: 0o666, uid: 0, gid: 0, nlink: 1, size: 0,
            atimeNs: 1, mtimeNs: 2, ctimeNs: 3, version: 0, rdev: 0x0000_0001_0000_0103)
        let frame = ResponseFrame(requestID: 3, opcode: .lookup, result: .success(.attributes(character)))
        try expectResponse(frame, """
            00000059 4e53 01 02 0101 0000 0000000000000003
            0000000000000007 06 000001b6 00000000 00000000 00000001 0000000000000000
            0000000000000001 0000000000000002 0000000000000003 0000000000000000
            0000000100000103
            """)
    }

    @Test func mknodOfABlockDevice() throws {
        // makedev(7, 0): major 7 in bits 8-19.
        let request = Request.mknod(parent: 1, name: "loop", kind: .blockDevice, mode: 0o660, uid: 0, gid: 6, rdev: 0x700)
        try expectRequest(RequestFrame(requestID: 4, request: request), """
            00000033 4e53 01 01 0106 0000 0000000000000004
            0000000000000001 0004 6c6f6f70 07 000001b0 00000000 00000006
            0000000000000700
            """)
    }

    @Test func errorResponse() throws {
        let frame = ResponseFrame(requestID: 7, opcode: .lookup, result: .failure(NetStoreError(.noEntry, "not found")))
        try expectResponse(frame, """
            0000001b 4e53 01 02 0101 0002 0000000000000007
            0009 6e6f7420666f756e64
            """)
    }

    @Test func applicationErrorCode() throws {
        let frame = ResponseFrame(requestID: 8, opcode: .commit, result: .failure(NetStoreError(.versionConflict)))
        try expectResponse(frame, """
            00000012 4e53 01 02 0204 03ee 0000000000000008 0000
            """)
    }
}
