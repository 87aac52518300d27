import NIOCore
import NetStoreCore
@testable import NetStoreProtocol
import Testing

/// Each of these is a protocol error, never nil (waiting) and never a frame.
@Suite struct MalformedFrameTests {
    private func expectMalformedRequest(
        _ input: ByteBuffer, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var buffer = input
        #expect(throws: ProtocolError.self, comment, sourceLocation: sourceLocation) {
            try FrameDecoder().nextRequest(from: &buffer)
        }
    }

    private func expectMalformedResponse(
        _ input: ByteBuffer, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var buffer = input
        #expect(throws: ProtocolError.self, comment, sourceLocation: sourceLocation) {
            try FrameDecoder().nextResponse(from: &buffer)
        }
    }

    private func lengthOnly(_ length: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(length)
        return buffer
    }

    @Test(arguments: [0, 15, 0xFFFF_FFFF, UInt32(Limits.maxFrameSize), UInt32(Limits.maxFrameSize - 3)])
    func absurdLengthIsRefusedFromItsFourBytes(_ length: UInt32) {
        expectMalformedRequest(lengthOnly(length))
        expectMalformedResponse(lengthOnly(length))
    }

    @Test func largestLengthWaitsForItsBytes() throws {
        var buffer = lengthOnly(UInt32(Limits.maxFrameSize - 4))
        #expect(try FrameDecoder().nextRequest(from: &buffer) == nil)
        var small = lengthOnly(100)
        #expect(throws: ProtocolError.self) { try FrameDecoder(maxFrameSize: 64).nextRequest(from: &small) }
    }

    @Test func badHeaderFields() {
        expectMalformedRequest(rawFrame(opcode: 1, magic: 0x4E54), "magic")
        expectMalformedRequest(rawFrame(opcode: 1, version: 2), "version")
        expectMalformedRequest(rawFrame(kind: 0, opcode: 1), "kind 0")
        expectMalformedRequest(rawFrame(kind: 3, opcode: 1), "kind 3")
        expectMalformedRequest(rawFrame(kind: 2, opcode: 1), "a response sent as a request")
        expectMalformedResponse(rawFrame(kind: 1, opcode: 1), "a request sent as a response")
        expectMalformedRequest(rawFrame(opcode: 1, status: 2) { $0.writeInteger(UInt16(0)) }, "status in a request")
        expectMalformedResponse(rawFrame(kind: 2, opcode: 1, status: 3) { $0.writeInteger(UInt16(0)) }, "unknown error code")
        expectMalformedResponse(rawFrame(kind: 2, opcode: 1, status: 0xFFFF) { $0.writeInteger(UInt16(0)) })
    }

    /// A bad header is refused from its 20 bytes, before the payload arrives.
    @Test func badHeaderIsRefusedBeforeThePayload() {
        var buffer = rawFrame(opcode: 0x0999) { $0.writeBytes([UInt8](repeating: 0, count: 100)) }
        buffer.moveWriterIndex(to: 20)
        expectMalformedRequest(buffer)
    }

    @Test(arguments: [UInt16(0), 0x0006, 0x0100, 0x0206, 0x0305, 0xFFFF])
    func unknownOpcode(_ opcode: UInt16) {
        expectMalformedRequest(rawFrame(opcode: opcode))
        expectMalformedResponse(rawFrame(kind: 2, opcode: opcode))
    }

    @Test func payloadMustBeConsumedExactly() {
        expectMalformedRequest(rawFrame(opcode: Opcode.ping.rawValue) { $0.writeInteger(UInt8(0)) }, "leftover byte")
        expectMalformedRequest(rawFrame(opcode: Opcode.getattr.rawValue) { $0.writeInteger(UInt32(1)) }, "short payload")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.ping.rawValue, status: 2), "error without its message")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.ping.rawValue, status: 2) {
            $0.writeInteger(UInt16(0)); $0.writeInteger(UInt8(0))
        }, "error message with trailing byte")
    }

    /// The decoder never reads into the next frame for a field the length cut short.
    @Test func fieldsNeverReachPastTheFrame() throws {
        var buffer = rawFrame(opcode: Opcode.lookup.rawValue) {
            $0.writeInteger(UInt64(1)); $0.writeInteger(UInt16(5)); $0.writeString("ab")
        }
        FrameCodec.encode(RequestFrame(requestID: 2, request: .ping), into: &buffer) // "cde" would come from here
        #expect(throws: ProtocolError.self) { try FrameDecoder().nextRequest(from: &buffer) }
    }

    private func lookup(nameBytes: [UInt8]) -> ByteBuffer {
        rawFrame(opcode: Opcode.lookup.rawValue) {
            $0.writeInteger(UInt64(1)); $0.writeInteger(UInt16(nameBytes.count)); $0.writeBytes(nameBytes)
        }
    }

    @Test(arguments: [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x61, 0x80], [0xF4, 0x90, 0x80, 0x80]])
    func invalidUTF8(_ bytes: [UInt8]) {
        expectMalformedRequest(lookup(nameBytes: bytes))
    }

    @Test func stringsOverTheirFieldLimits() throws {
        var ok = lookup(nameBytes: [UInt8](repeating: 0x61, count: Limits.maxNameLength))
        #expect(try FrameDecoder().nextRequest(from: &ok) != nil)
        expectMalformedRequest(lookup(nameBytes: [UInt8](repeating: 0x61, count: Limits.maxNameLength + 1)), "name")

        func string(_ count: Int) -> (inout ByteBuffer) -> Void {
            { $0.writeInteger(UInt16(count)); $0.writeBytes([UInt8](repeating: 0x61, count: count)) }
        }
        expectMalformedRequest(rawFrame(opcode: Opcode.login.rawValue) {
            string(Limits.maxUserNameLength + 1)(&$0); string(8)(&$0)
        }, "user name")
        expectMalformedRequest(rawFrame(opcode: Opcode.login.rawValue) {
            string(5)(&$0); string(Limits.maxPasswordLength + 1)(&$0)
        }, "password")
        expectMalformedRequest(rawFrame(opcode: Opcode.auth.rawValue, payload: string(Limits.maxTokenLength + 1)), "token")
        expectMalformedRequest(rawFrame(opcode: Opcode.symlink.rawValue) {
            $0.writeInteger(UInt64(1)); string(1)(&$0); string(Limits.maxSymlinkTarget + 1)(&$0)
            $0.writeInteger(UInt32(0)); $0.writeInteger(UInt32(0))
        }, "symlink target")
        expectMalformedResponse(
            rawFrame(kind: 2, opcode: Opcode.ping.rawValue, status: 2, payload: string(Limits.maxMessageLength + 1)),
            "error message")
        expectMalformedResponse(
            rawFrame(kind: 2, opcode: Opcode.readlink.rawValue, payload: string(Limits.maxSymlinkTarget + 1)),
            "readlink target")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.userAdd.rawValue) {
            $0.writeInteger(UInt64(1)); string(Limits.maxUserNameLength + 1)(&$0)
            $0.writeInteger(UInt8(0)); $0.writeInteger(UInt64(1)); $0.writeInteger(Int64(0))
        }, "user name in a reply")
    }

    @Test func badEnumsAndBools() {
        func attr(kind: UInt8) -> (inout ByteBuffer) -> Void {
            { buffer in
                buffer.writeInteger(UInt64(1)); buffer.writeInteger(kind)
                for _ in 0..<4 { buffer.writeInteger(UInt32(0)) }
                for _ in 0..<6 { buffer.writeInteger(UInt64(0)) }
            }
        }
        var valid = rawFrame(kind: 2, opcode: Opcode.getattr.rawValue, payload: attr(kind: 1))
        #expect(throws: Never.self) { try FrameDecoder().nextResponse(from: &valid) }
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.getattr.rawValue, payload: attr(kind: 0)), "kind 0")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.getattr.rawValue, payload: attr(kind: 8)), "kind 8")
        expectMalformedRequest(rawFrame(opcode: Opcode.mknod.rawValue) {
            $0.writeInteger(UInt64(1)); $0.writeInteger(UInt16(1)); $0.writeString("p"); $0.writeInteger(UInt8(9))
            for _ in 0..<3 { $0.writeInteger(UInt32(0)) }
            $0.writeInteger(UInt64(0))
        }, "mknod kind")
        expectMalformedRequest(rawFrame(opcode: Opcode.userAdd.rawValue) {
            $0.writeInteger(UInt16(1)); $0.writeString("u"); $0.writeInteger(UInt16(1)); $0.writeString("p")
            $0.writeInteger(UInt8(2))
        }, "role")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.hasBlocks.rawValue) {
            $0.writeInteger(UInt32(2)); $0.writeInteger(UInt8(1)); $0.writeInteger(UInt8(2))
        }, "bool 2")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.readdir.rawValue) {
            $0.writeInteger(UInt8(0xFF)); $0.writeInteger(UInt32(0))
        }, "isLast 255")
    }

    private func rename(flags: UInt32) -> ByteBuffer {
        rawFrame(opcode: Opcode.rename.rawValue) {
            $0.writeInteger(UInt64(1)); $0.writeInteger(UInt16(1)); $0.writeString("a")
            $0.writeInteger(UInt64(2)); $0.writeInteger(UInt16(1)); $0.writeString("b")
            $0.writeInteger(flags)
        }
    }

    @Test func renameFlags() throws {
        for flags: UInt32 in [0, 1, 2, 3] {
            var buffer = rename(flags: flags)
            #expect(try FrameDecoder().nextRequest(from: &buffer) != nil)
        }
        expectMalformedRequest(rename(flags: 4))
        expectMalformedRequest(rename(flags: 0x8000_0000))
    }

    private func setattr(
        mask: UInt8, mode: UInt32 = 0, size: UInt64 = 0, atimeTag: UInt8 = 0, atime: Int64 = 0
    ) -> ByteBuffer {
        rawFrame(opcode: Opcode.setattr.rawValue) {
            $0.writeInteger(UInt64(1)); $0.writeInteger(mask)
            $0.writeInteger(mode); $0.writeInteger(UInt32(0)); $0.writeInteger(UInt32(0)); $0.writeInteger(size)
            $0.writeInteger(atimeTag); $0.writeInteger(atime)
            $0.writeInteger(UInt8(0)); $0.writeInteger(Int64(0))
        }
    }

    @Test func setattrEncodingIsStrict() throws {
        var valid = setattr(mask: 0x0F, mode: 0o644, size: 10, atimeTag: 2, atime: -7)
        let frame = try FrameDecoder().nextRequest(from: &valid)
        #expect(frame?.request == .setattr(
            node: 1, changes: SetAttributes(mode: 0o644, uid: 0, gid: 0, size: 10, atime: .nanoseconds(-7))))
        expectMalformedRequest(setattr(mask: 0x10), "unknown mask bit")
        expectMalformedRequest(setattr(mask: 0x00, mode: 0o644), "unset mode with a value")
        expectMalformedRequest(setattr(mask: 0x01, size: 1), "unset size with a value")
        expectMalformedRequest(setattr(mask: 0, atimeTag: 3), "time tag 3")
        expectMalformedRequest(setattr(mask: 0, atimeTag: 1, atime: 5), "now with a value")
        expectMalformedRequest(setattr(mask: 0, atimeTag: 0, atime: 5), "unchanged with a value")
    }

    @Test(arguments: [UInt32(0), UInt32(Limits.maxReaddirPage + 1), .max])
    func readdirLimitOutOfRange(_ limit: UInt32) {
        expectMalformedRequest(rawFrame(opcode: Opcode.readdir.rawValue) {
            $0.writeInteger(UInt64(1)); $0.writeInteger(UInt64(0)); $0.writeInteger(limit)
        })
    }

    @Test func listsAndDataOverTheirLimits() {
        expectMalformedRequest(rawFrame(opcode: Opcode.hasBlocks.rawValue) {
            $0.writeInteger(UInt32(Limits.maxHashesPerQuery + 1))
            $0.writeBytes([UInt8](repeating: 1, count: (Limits.maxHashesPerQuery + 1) * 32))
        }, "hash query")
        expectMalformedRequest(rawFrame(opcode: Opcode.commit.rawValue) {
            for _ in 0..<3 { $0.writeInteger(UInt64(0)) }
            $0.writeInteger(UInt32(Limits.maxBlocksPerCommit + 1))
        }, "block list")
        expectMalformedRequest(rawFrame(opcode: Opcode.hasBlocks.rawValue) {
            $0.writeInteger(UInt32(10)); $0.writeBytes([UInt8](repeating: 1, count: 32))
        }, "count larger than the payload")
        expectMalformedRequest(rawFrame(opcode: Opcode.putBlock.rawValue) {
            $0.writeBytes([UInt8](repeating: 1, count: 32))
            $0.writeInteger(UInt32(Limits.maxBlockSize + 1))
            $0.writeBytes([UInt8](repeating: 0, count: Limits.maxBlockSize + 1))
        }, "block data")
        expectMalformedRequest(rawFrame(opcode: Opcode.putBlock.rawValue) {
            $0.writeBytes([UInt8](repeating: 1, count: 32)); $0.writeInteger(UInt32.max)
        }, "data length past the frame")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.userList.rawValue) {
            $0.writeInteger(UInt32(Limits.maxUsersListed + 1))
        }, "user list")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.readdir.rawValue) {
            $0.writeInteger(UInt8(1)); $0.writeInteger(UInt32(Limits.maxReaddirPage + 1))
        }, "directory page")
        expectMalformedResponse(rawFrame(kind: 2, opcode: Opcode.hasBlocks.rawValue) {
            $0.writeInteger(UInt32(Limits.maxHashesPerQuery + 1))
            $0.writeBytes([UInt8](repeating: 1, count: Limits.maxHashesPerQuery + 1))
        }, "presence list")
    }
}
