import NIOCore
import NetStoreCore
@testable import NetStoreProtocol
import Testing

@Suite struct RoundTripTests {
    @Test(arguments: Fixtures.requestFrames)
    func request(_ frame: RequestFrame) throws {
        var buffer = Fixtures.encoded(frame)
        let decoded = try FrameDecoder().nextRequest(from: &buffer)
        #expect(decoded == frame)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: Fixtures.responseFrames)
    func response(_ frame: ResponseFrame) throws {
        var buffer = Fixtures.encoded(frame)
        let decoded = try FrameDecoder().nextResponse(from: &buffer)
        #expect(decoded == frame)
        #expect(buffer.readableBytes == 0)
    }

    @Test func everyRequestCaseIsCovered() {
        let covered = Set(Fixtures.requests.map(\.opcode))
        // CHANGES is only ever sent by a server.
        #expect(covered == Set(Opcode.allCases).subtracting([.changes]))
    }

    @Test func everyOpcodeHasASuccessfulReply() {
        let covered = Set(Fixtures.responses.map(\.0))
        // Replies of one shape are decoded by one path; these are the ones left out.
        let sameShape: Set<Opcode> = [
            .logout, .unlink, .rmdir, .putBlock, .userPasswd, .userRemove,
            .lookup, .mkdir, .create, .mknod, .link, .symlink, .setattr, .commitInline,
        ]
        // A notice has no successful reply at all (ReplicationWireTests).
        let unanswered: Set<Opcode> = [.replicateNotice]
        #expect(covered.union(sameShape).union(unanswered) == Set(Opcode.allCases))
    }

    /// Nil, consuming nothing, until the last byte; then the frame.
    @Test func dripFedRequests() throws {
        let decoder = FrameDecoder()
        for frame in Fixtures.requestFrames {
            let bytes = Array(Fixtures.encoded(frame).readableBytesView)
            var buffer = ByteBuffer()
            for (index, byte) in bytes.enumerated() {
                buffer.writeInteger(byte)
                let result = try decoder.nextRequest(from: &buffer)
                if index < bytes.count - 1 {
                    #expect(result == nil, "\(frame.request.opcode) decoded after \(index + 1) of \(bytes.count) bytes")
                    #expect(buffer.readerIndex == 0)
                } else {
                    #expect(result == frame)
                    #expect(buffer.readableBytes == 0)
                }
            }
        }
    }

    @Test func dripFedResponses() throws {
        let decoder = FrameDecoder()
        for frame in Fixtures.responseFrames {
            let bytes = Array(Fixtures.encoded(frame).readableBytesView)
            var buffer = ByteBuffer()
            for (index, byte) in bytes.enumerated() {
                buffer.writeInteger(byte)
                let result = try decoder.nextResponse(from: &buffer)
                if index < bytes.count - 1 {
                    #expect(result == nil, "\(frame.opcode) decoded after \(index + 1) of \(bytes.count) bytes")
                    #expect(buffer.readerIndex == 0)
                } else {
                    #expect(result == frame)
                    #expect(buffer.readableBytes == 0)
                }
            }
        }
    }

    @Test func backToBackFramesInOneBuffer() throws {
        let decoder = FrameDecoder()
        var requests = ByteBuffer()
        for frame in Fixtures.requestFrames { FrameCodec.encode(frame, into: &requests) }
        requests.writeBytes([0, 0, 0]) // the start of one more
        var decodedRequests = [RequestFrame]()
        while let frame = try decoder.nextRequest(from: &requests) { decodedRequests.append(frame) }
        #expect(decodedRequests == Fixtures.requestFrames)
        #expect(requests.readableBytes == 3)

        var responses = ByteBuffer()
        for frame in Fixtures.responseFrames { FrameCodec.encode(frame, into: &responses) }
        var decodedResponses = [ResponseFrame]()
        while let frame = try decoder.nextResponse(from: &responses) { decodedResponses.append(frame) }
        #expect(decodedResponses == Fixtures.responseFrames)
        #expect(responses.readableBytes == 0)
    }

    /// Block data comes out as a view of the input, not a copy.
    @Test func blockDataIsASliceOfTheInput() throws {
        let input = Fixtures.encoded(RequestFrame(requestID: 1, request: .putBlock(id: Fixtures.block(1), data: Fixtures.data)))
        var buffer = input
        let frame = try #require(try FrameDecoder().nextRequest(from: &buffer))
        guard case .putBlock(_, let data) = frame.request else { Issue.record("not a putBlock"); return }
        let sharesStorage = input.withUnsafeReadableBytes { whole in
            data.withUnsafeReadableBytes { part in
                part.baseAddress! >= whole.baseAddress! && part.baseAddress! + part.count <= whole.baseAddress! + whole.count
            }
        }
        #expect(sharesStorage)

        let reply = Fixtures.encoded(ResponseFrame(requestID: 1, opcode: .getBlock, result: .success(.block(Fixtures.data))))
        var replyBuffer = reply
        let decodedReply = try #require(try FrameDecoder().nextResponse(from: &replyBuffer))
        guard case .success(.block(let replyData)) = decodedReply.result else { Issue.record("not a block"); return }
        let replySharesStorage = reply.withUnsafeReadableBytes { whole in
            replyData.withUnsafeReadableBytes { part in
                part.baseAddress! >= whole.baseAddress! && part.baseAddress! + part.count <= whole.baseAddress! + whole.count
            }
        }
        #expect(replySharesStorage)
    }

    @Test func fieldsAtTheirLimitsTravel() throws {
        let name = String(repeating: "n", count: Limits.maxNameLength)
        let userName = String(repeating: "u", count: Limits.maxUserNameLength)
        let password = String(repeating: "p", count: Limits.maxPasswordLength)
        let requests: [Request] = [
            .lookup(parent: 1, name: name),
            .rename(parent: 1, name: name, newParent: 2, newName: name, flags: [.noReplace, .exchange]),
            .symlink(parent: 1, name: name, target: String(repeating: "t", count: Limits.maxSymlinkTarget), uid: 0, gid: 0),
            .login(user: userName, password: password),
            .auth(token: String(repeating: "k", count: Limits.maxTokenLength)),
            .readdir(directory: 1, cookie: .max, limit: UInt32(Limits.maxReaddirPage)),
            .hasBlocks([BlockID](repeating: Fixtures.block(1), count: Limits.maxHashesPerQuery)),
            .putBlock(id: Fixtures.block(2), data: ByteBuffer(repeating: 7, count: Limits.maxBlockSize)),
        ]
        for request in requests {
            let frame = RequestFrame(requestID: 3, request: request)
            var buffer = Fixtures.encoded(frame)
            #expect(try FrameDecoder().nextRequest(from: &buffer) == frame)
        }
        let longMessage = ResponseFrame(
            requestID: 4, opcode: .ping,
            result: .failure(NetStoreError(.io, String(repeating: "m", count: Limits.maxMessageLength))))
        var buffer = Fixtures.encoded(longMessage)
        #expect(try FrameDecoder().nextResponse(from: &buffer) == longMessage)
    }
}
