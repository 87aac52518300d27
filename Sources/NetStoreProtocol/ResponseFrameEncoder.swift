import NIOCore
import NetStoreCore

/// Encodes response frames for the server's pipeline:
/// `MessageToByteHandler(ResponseFrameEncoder())`. A frame over a limit fails
/// its write with the `NetStoreError` from `FrameCodec.tryEncode`.
public struct ResponseFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = ResponseFrame

    public init() {}

    public func encode(data: ResponseFrame, out: inout ByteBuffer) throws {
        try FrameCodec.tryEncode(data, into: &out)
    }
}
