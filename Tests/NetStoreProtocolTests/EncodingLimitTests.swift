import NIOCore
import NetStoreCore
@testable import NetStoreProtocol
import Testing

/// `tryEncode` refuses what the receiver would reject, and leaves the buffer as it was.
@Suite struct EncodingLimitTests {
    private func expectRefused(_ request: Request, code: ErrorCode) {
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        #expect {
            try FrameCodec.tryEncode(RequestFrame(requestID: 1, request: request), into: &buffer)
        } throws: { error in
            (error as? NetStoreError)?.code == code
        }
        #expect(buffer == ByteBuffer(bytes: [1, 2, 3]), "a refused frame leaves no bytes behind")
    }

    @Test func overLongStrings() {
        let name = String(repeating: "n", count: Limits.maxNameLength + 1)
        expectRefused(.lookup(parent: 1, name: name), code: .nameTooLong)
        expectRefused(.rename(parent: 1, name: "a", newParent: 1, newName: name, flags: []), code: .nameTooLong)
        expectRefused(.link(node: 1, newParent: 1, newName: name), code: .nameTooLong)
        expectRefused(
            .symlink(parent: 1, name: "l", target: String(repeating: "t", count: Limits.maxSymlinkTarget + 1), uid: 0, gid: 0),
            code: .nameTooLong)
        expectRefused(.login(user: String(repeating: "u", count: Limits.maxUserNameLength + 1), password: "x"), code: .invalid)
        expectRefused(.login(user: "u", password: String(repeating: "p", count: Limits.maxPasswordLength + 1)), code: .invalid)
        expectRefused(.auth(token: String(repeating: "k", count: Limits.maxTokenLength + 1)), code: .invalid)
        // A limit counts UTF-8 bytes, not characters: 128 two-byte characters are 256 bytes.
        expectRefused(.lookup(parent: 1, name: String(repeating: "é", count: 128)), code: .nameTooLong)
    }

    @Test func outOfRangeValues() {
        expectRefused(.readdir(directory: 1, cookie: 0, limit: 0), code: .invalid)
        expectRefused(.readdir(directory: 1, cookie: 0, limit: UInt32(Limits.maxReaddirPage) + 1), code: .invalid)
        expectRefused(.rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: RenameFlags(rawValue: 4)), code: .invalid)
    }

    @Test func overLongListsAndData() {
        expectRefused(.hasBlocks([BlockID](repeating: .hole, count: Limits.maxHashesPerQuery + 1)), code: .invalid)
        expectRefused(
            .commit(node: 1, baseVersion: 0, size: 0, blocks: [BlockID](repeating: .hole, count: Limits.maxBlocksPerCommit + 1)),
            code: .fileTooBig)
        expectRefused(
            .putBlock(id: .hole, data: ByteBuffer(repeating: 0, count: Limits.maxBlockSize + 1)), code: .fileTooBig)
        let file = InlineFile(parent: 1, name: "f", mode: 0o644, uid: 0, gid: 0, data: ByteBuffer(repeating: 1, count: Limits.inlineContentLimit))
        expectRefused(.createInlineBatch(files: [InlineFile](repeating: file, count: Limits.maxFilesPerBatch + 1)), code: .invalid)
        expectRefused(.createInlineBatch(files: [InlineFile](repeating: file, count: Limits.maxBatchContent / Limits.inlineContentLimit + 1)),
                      code: .invalid)
        var big = file
        big.data = ByteBuffer(repeating: 1, count: Limits.inlineContentLimit + 1)
        expectRefused(.createInlineBatch(files: [big]), code: .fileTooBig)
        let removal = EntryRemoval(parent: 1, name: "f", isDirectory: false)
        expectRefused(.removeBatch(entries: [EntryRemoval](repeating: removal, count: Limits.maxRemovalsPerBatch + 1)), code: .invalid)
    }

    /// Within every field limit, yet over the frame limit: refused rather than sent.
    @Test func longestBlockListFitsInAFrame() throws {
        let blocks = [BlockID](repeating: .hole, count: Limits.maxBlocksPerCommit)
        var buffer = ByteBuffer()
        try FrameCodec.tryEncode(RequestFrame(requestID: 1, request: .commit(node: 1, baseVersion: 0, size: 0, blocks: blocks)), into: &buffer)
        #expect(buffer.readableBytes <= Limits.maxFrameSize)
        expectRefused(.commit(node: 1, baseVersion: 0, size: 0, blocks: blocks + [.hole]), code: .fileTooBig)
    }

    @Test func responseLimits() {
        let tooManyUsers = [UserInfo](repeating: Fixtures.alice, count: Limits.maxUsersListed + 1)
        var buffer = ByteBuffer()
        #expect(throws: NetStoreError.self) {
            try FrameCodec.tryEncode(
                ResponseFrame(requestID: 1, opcode: .userList, result: .success(.users(tooManyUsers))), into: &buffer)
        }
        let longTarget = String(repeating: "t", count: Limits.maxSymlinkTarget + 1)
        #expect(throws: NetStoreError.self) {
            try FrameCodec.tryEncode(
                ResponseFrame(requestID: 1, opcode: .readlink, result: .success(.target(longTarget))), into: &buffer)
        }
        #expect(buffer.readableBytes == 0)
    }

    /// A message is cut to its limit on a character boundary rather than lose the reply.
    @Test func longErrorMessageIsTruncated() throws {
        let message = String(repeating: "é", count: 600) // 1200 bytes
        var buffer = Fixtures.encoded(ResponseFrame(requestID: 1, opcode: .ping, result: .failure(NetStoreError(.io, message))))
        let frame = try #require(try FrameDecoder().nextResponse(from: &buffer))
        #expect(frame.result == .failure(NetStoreError(.io, String(repeating: "é", count: 512))))
        #expect(FrameCodec.truncated("aé", to: 2) == "a")
        #expect(FrameCodec.truncated("abc", to: 3) == "abc")
    }

    @Test func encodingAppendsToWhatIsInTheBuffer() throws {
        var buffer = ByteBuffer(bytes: [9, 9])
        FrameCodec.encode(RequestFrame(requestID: 1, request: .ping), into: &buffer)
        #expect(buffer.readInteger(as: UInt16.self) == 0x0909)
        #expect(try FrameDecoder().nextRequest(from: &buffer) == RequestFrame(requestID: 1, request: .ping))
    }

    /// Answering an opcode with the wrong kind of response is a bug, caught by a precondition.
    @Test func mismatchedResponseIsAProgrammerError() async {
        await #expect(processExitsWith: .failure) {
            var buffer = ByteBuffer()
            FrameCodec.encode(ResponseFrame(requestID: 1, opcode: .lookup, result: .success(.empty)), into: &buffer)
        }
    }
}
