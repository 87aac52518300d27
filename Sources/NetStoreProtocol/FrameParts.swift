import NIOCore
import NetStoreCore

/// A frame as the buffers to send one after the other: the bytes of a large
/// block that end a frame travel as a buffer of their own, which the socket
/// gathers (writev), instead of being copied into the frame. Byte for byte the
/// same stream as `FrameCodec.tryEncode` writes.
public struct FrameParts: Sendable {
    /// The header and the fields, up to the block bytes' length.
    public var head: ByteBuffer
    /// The block bytes, when they travel apart.
    public var tail: ByteBuffer?

    /// Block bytes from this size on travel apart: below it, a copy costs less
    /// than a second buffer.
    public static let separateDataMinimum = 32 << 10
}

extension FrameCodec {
    public static func tryEncodeParts(_ frame: RequestFrame, allocator: ByteBufferAllocator) throws(NetStoreError) -> FrameParts {
        var head = allocator.buffer(capacity: 128)
        guard let (withoutData, data) = frame.request.trailingBlockData,
              data.readableBytes >= FrameParts.separateDataMinimum else {
            try tryEncode(frame, into: &head)
            return FrameParts(head: head, tail: nil)
        }
        try tryEncode(RequestFrame(requestID: frame.requestID, request: withoutData), into: &head)
        try announce(data, in: &head, opcode: frame.request.opcode)
        return FrameParts(head: head, tail: data)
    }

    public static func tryEncodeParts(_ frame: ResponseFrame, allocator: ByteBufferAllocator) throws(NetStoreError) -> FrameParts {
        var head = allocator.buffer(capacity: 128)
        guard case .success(.block(let data)) = frame.result, data.readableBytes >= FrameParts.separateDataMinimum else {
            try tryEncode(frame, into: &head)
            return FrameParts(head: head, tail: nil)
        }
        try tryEncode(ResponseFrame(requestID: frame.requestID, opcode: frame.opcode, result: .success(.block(ByteBuffer()))), into: &head)
        try announce(data, in: &head, opcode: frame.opcode)
        return FrameParts(head: head, tail: data)
    }

    /// Turns `head`, a whole frame ending with empty block data (a zero u32
    /// length), into the front of the same frame carrying `data`.
    private static func announce(_ data: ByteBuffer, in head: inout ByteBuffer, opcode: Opcode) throws(NetStoreError) {
        try FieldLimit.blockData.checkBytes32(data.readableBytes)
        let length = head.readableBytes - FrameHeader.lengthFieldSize + data.readableBytes
        try checkLength(length, of: opcode)
        head.setInteger(UInt32(data.readableBytes), at: head.writerIndex - 4)
        head.setInteger(UInt32(length), at: head.readerIndex)
    }
}

extension Request {
    /// A request whose payload ends with block bytes: the same request with
    /// none, and the bytes.
    var trailingBlockData: (Request, ByteBuffer)? {
        switch self {
        case .putBlock(let id, let data): (.putBlock(id: id, data: ByteBuffer()), data)
        case .replicaPutBlock(let id, let data): (.replicaPutBlock(id: id, data: ByteBuffer()), data)
        case .repairBlock(let id, let data): (.repairBlock(id: id, data: ByteBuffer()), data)
        default: nil
        }
    }
}

/// Writes response frames for the server's pipeline, a large block apart from
/// its frame (`FrameParts`). A frame over a limit fails its write with the
/// `NetStoreError` from `FrameCodec.tryEncodeParts`, and is passed to
/// `errorCaught`, as NIO's `MessageToByteHandler` does.
public final class ResponseFrameWriter: ChannelOutboundHandler {
    public typealias OutboundIn = ResponseFrame
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            let parts = try FrameCodec.tryEncodeParts(unwrapOutboundIn(data), allocator: context.channel.allocator)
            context.writeParts(parts, promise: promise)
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }
}

/// Writes frames encoded already (`FrameParts`) for the client's pipeline:
/// one write of the parts, so no other frame can come between them.
public final class FramePartsWriter: ChannelOutboundHandler {
    public typealias OutboundIn = FrameParts
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.writeParts(unwrapOutboundIn(data), promise: promise)
    }
}

extension ChannelHandlerContext {
    fileprivate func writeParts(_ parts: FrameParts, promise: EventLoopPromise<Void>?) {
        guard let tail = parts.tail else {
            return write(NIOAny(parts.head), promise: promise)
        }
        write(NIOAny(parts.head), promise: nil)
        write(NIOAny(tail), promise: promise)
    }
}
