import NIOCore
import NetStoreCore

/// Encodes request frames for the client's pipeline:
/// `MessageToByteHandler(RequestFrameEncoder())`. A frame over a limit fails
/// its write with the `NetStoreError` from `FrameCodec.tryEncode`.
public struct RequestFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = RequestFrame

    public init() {}

    public func encode(data: RequestFrame, out: inout ByteBuffer) throws {
        try FrameCodec.tryEncode(data, into: &out)
    }
}
