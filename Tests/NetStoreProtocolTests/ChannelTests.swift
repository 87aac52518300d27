import NIOCore
import NIOEmbedded
import NIOTestUtils
import NetStoreCore
import NetStoreProtocol
import Testing

/// The NIO adapters in a pipeline.
@Suite struct ChannelTests {
    @Test func requestDecoderPassesTheVerifier() throws {
        let pairs = Fixtures.requestFrames.map { (Fixtures.encoded($0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RequestFrameDecoder() }
    }

    @Test func responseDecoderPassesTheVerifier() throws {
        let pairs = Fixtures.responseFrames.map { (Fixtures.encoded($0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ResponseFrameDecoder() }
    }

    @Test func malformedFrameFiresAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RequestFrameDecoder()))
        var input = Fixtures.encoded(RequestFrame(requestID: 1, request: .ping))
        input.writeImmutableBuffer(rawFrame(opcode: 0x7777))
        #expect(throws: ProtocolError.self) { try channel.writeInbound(input) }
        // The good frame before the bad one still arrives.
        #expect(try channel.readInbound(as: RequestFrame.self) == RequestFrame(requestID: 1, request: .ping))
        #expect(try channel.readInbound(as: RequestFrame.self) == nil)
        _ = try? channel.finish()
    }

    @Test func absurdLengthFiresAnErrorAtOnce() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ResponseFrameDecoder()))
        #expect(throws: ProtocolError.self) { try channel.writeInbound(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])) }
        _ = try? channel.finish()
    }

    @Test func requestEncoderWritesTheCodecBytes() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(RequestFrameEncoder()))
        let frame = RequestFrame(requestID: 5, request: .lookup(parent: 1, name: "x"))
        try channel.writeOutbound(frame)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == Fixtures.encoded(frame))
        #expect(try channel.finish().isClean)
    }

    @Test func responseEncoderWritesTheCodecBytes() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(ResponseFrameEncoder()))
        let frame = ResponseFrame(requestID: 5, opcode: .readlink, result: .success(.target("t")))
        try channel.writeOutbound(frame)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == Fixtures.encoded(frame))
        #expect(try channel.finish().isClean)
    }

    @Test func encoderFailsAWriteOverALimit() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(RequestFrameEncoder()))
        let frame = RequestFrame(requestID: 5, request: .lookup(parent: 1, name: String(repeating: "x", count: 300)))
        #expect(throws: NetStoreError.self) { try channel.writeOutbound(frame) }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    /// Client and server pipelines talk to each other.
    @Test func encoderAndDecoderAgree() throws {
        let client = EmbeddedChannel()
        try client.pipeline.syncOperations.addHandlers(
            MessageToByteHandler(RequestFrameEncoder()), ByteToMessageHandler(ResponseFrameDecoder()))
        let server = EmbeddedChannel()
        try server.pipeline.syncOperations.addHandlers(
            MessageToByteHandler(ResponseFrameEncoder()), ByteToMessageHandler(RequestFrameDecoder()))

        for frame in Fixtures.requestFrames { try client.writeOutbound(frame) }
        while let bytes = try client.readOutbound(as: ByteBuffer.self) { try server.writeInbound(bytes) }
        var received = [RequestFrame]()
        while let frame = try server.readInbound(as: RequestFrame.self) { received.append(frame) }
        #expect(received == Fixtures.requestFrames)

        for frame in Fixtures.responseFrames { try server.writeOutbound(frame) }
        while let bytes = try server.readOutbound(as: ByteBuffer.self) { try client.writeInbound(bytes) }
        var replies = [ResponseFrame]()
        while let frame = try client.readInbound(as: ResponseFrame.self) { replies.append(frame) }
        #expect(replies == Fixtures.responseFrames)
        #expect(try client.finish().isClean)
        #expect(try server.finish().isClean)
    }
}
