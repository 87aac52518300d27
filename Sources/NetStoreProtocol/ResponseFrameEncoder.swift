import NIOCore
import NetStoreCore

/// Encodes response frames into one buffer each:
/// `MessageToByteHandler(ResponseFrameEncoder())`. A frame over a limit fails
/// its write with the `NetStoreError` from `FrameCodec.tryEncode`. (The
/// server's pipeline uses `ResponseFrameWriter`, which sends a large block
/// apart from its frame.)
public struct ResponseFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = ResponseFrame

    public init() {}

    public func encode(data: ResponseFrame, out: inout ByteBuffer) throws {
        try FrameCodec.tryEncode(data, into: &out)
    }
}
