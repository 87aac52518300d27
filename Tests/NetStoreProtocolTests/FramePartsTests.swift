import NIOCore
import NIOEmbedded
import NetStoreCore
@testable import NetStoreProtocol
import Testing

/// Frames sent as parts, a large block apart from its frame: the same bytes as
/// one buffer, the same refusals.
@Suite struct FramePartsTests {
    static let sizes = [0, 1, 4096, FrameParts.separateDataMinimum - 1, FrameParts.separateDataMinimum, 300_000, Limits.maxBlockSize]

    static func data(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
    }

    static func blockRequests(_ data: ByteBuffer) -> [Request] {
        [.putBlock(id: Fixtures.block(1), data: data),
         .replicaPutBlock(id: Fixtures.block(2), data: data),
         .repairBlock(id: Fixtures.block(3), data: data)]
    }

    static func joined(_ parts: FrameParts) -> ByteBuffer {
        var bytes = parts.head
        if let tail = parts.tail { bytes.writeImmutableBuffer(tail) }
        return bytes
    }

    @Test(arguments: sizes) func blockRequestPartsAreTheFrameBytes(size: Int) throws {
        let data = Self.data(size)
        for request in Self.blockRequests(data) {
            let frame = RequestFrame(requestID: 77, request: request)
            let parts = try FrameCodec.tryEncodeParts(frame, allocator: ByteBufferAllocator())
            #expect(Self.joined(parts) == Fixtures.encoded(frame))
            // Apart only from the minimum on, and then the caller's buffer itself.
            #expect((parts.tail != nil) == (size >= FrameParts.separateDataMinimum))
            if let tail = parts.tail { #expect(tail == data) }
        }
    }

    @Test(arguments: sizes) func blockResponsePartsAreTheFrameBytes(size: Int) throws {
        let frame = ResponseFrame(requestID: 78, opcode: .getBlock, result: .success(.block(Self.data(size))))
        let parts = try FrameCodec.tryEncodeParts(frame, allocator: ByteBufferAllocator())
        #expect(Self.joined(parts) == Fixtures.encoded(frame))
        #expect((parts.tail != nil) == (size >= FrameParts.separateDataMinimum))
    }

    @Test func otherFramesAreOneBuffer() throws {
        for frame in Fixtures.requestFrames {
            let parts = try FrameCodec.tryEncodeParts(frame, allocator: ByteBufferAllocator())
            #expect(parts.tail == nil)
            #expect(parts.head == Fixtures.encoded(frame))
        }
        for frame in Fixtures.responseFrames {
            let parts = try FrameCodec.tryEncodeParts(frame, allocator: ByteBufferAllocator())
            #expect(parts.tail == nil)
            #expect(parts.head == Fixtures.encoded(frame))
        }
    }

    @Test func blockOverTheLimitIsRefusedAsInOneBuffer() {
        let isTooBig = { (error: any Error) in (error as? NetStoreError)?.code == .fileTooBig }
        let data = Self.data(Limits.maxBlockSize + 1)
        for request in Self.blockRequests(data) {
            let frame = RequestFrame(requestID: 1, request: request)
            var whole = ByteBuffer()
            #expect { try FrameCodec.tryEncode(frame, into: &whole) } throws: { isTooBig($0) }
            #expect { try FrameCodec.tryEncodeParts(frame, allocator: ByteBufferAllocator()) } throws: { isTooBig($0) }
        }
        let response = ResponseFrame(requestID: 1, opcode: .getBlock, result: .success(.block(data)))
        #expect { try FrameCodec.tryEncodeParts(response, allocator: ByteBufferAllocator()) } throws: { isTooBig($0) }
    }

    /// The server's writer sends a large block as a second buffer, and the
    /// client's decoder reads the two as the frame that was written.
    @Test func responseWriterSendsABlockApartAndItDecodes() throws {
        let channel = EmbeddedChannel(handler: ResponseFrameWriter())
        let frame = ResponseFrame(requestID: 9, opcode: .getBlock, result: .success(.block(Self.data(Limits.maxBlockSize))))
        try channel.writeOutbound(frame)
        let head = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let tail = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(tail.readableBytes == Limits.maxBlockSize)

        let client = EmbeddedChannel(handler: ByteToMessageHandler(ResponseFrameDecoder()))
        try client.writeInbound(head)
        try client.writeInbound(tail)
        #expect(try client.readInbound(as: ResponseFrame.self) == frame)
        #expect(try channel.finish().isClean)
        #expect(try client.finish().isClean)
    }

    @Test func responseWriterFailsAWriteOverALimit() throws {
        let channel = EmbeddedChannel(handler: ResponseFrameWriter())
        let frame = ResponseFrame(requestID: 9, opcode: .getBlock, result: .success(.block(Self.data(Limits.maxBlockSize + 1))))
        #expect(throws: NetStoreError.self) { try channel.writeOutbound(frame) }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    @Test func partsWriterKeepsTheOrder() throws {
        let channel = EmbeddedChannel(handler: FramePartsWriter())
        let frames = [RequestFrame(requestID: 1, request: .putBlock(id: Fixtures.block(4), data: Self.data(Limits.maxBlockSize))),
                      RequestFrame(requestID: 2, request: .ping)]
        for frame in frames {
            try channel.writeOutbound(try FrameCodec.tryEncodeParts(frame, allocator: channel.allocator))
        }
        var stream = ByteBuffer()
        while var bytes = try channel.readOutbound(as: ByteBuffer.self) { stream.writeBuffer(&bytes) }
        let server = EmbeddedChannel(handler: ByteToMessageHandler(RequestFrameDecoder()))
        try server.writeInbound(stream)
        #expect(try server.readInbound(as: RequestFrame.self) == frames[0])
        #expect(try server.readInbound(as: RequestFrame.self) == frames[1])
        #expect(try channel.finish().isClean)
        #expect(try server.finish().isClean)
    }
}
