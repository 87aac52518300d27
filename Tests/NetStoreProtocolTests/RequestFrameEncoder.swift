import NIOCore
import NetStoreCore
import NetStoreProtocol

/// Encodes request frames in a test pipeline:
/// `MessageToByteHandler(RequestFrameEncoder())`, as the client writes them
/// (`FrameCodec.tryEncode`). A frame over a limit fails its write with that
/// function's `NetStoreError`.
struct RequestFrameEncoder: MessageToByteEncoder, Sendable {
    typealias OutboundIn = RequestFrame

    func encode(data: RequestFrame, out: inout ByteBuffer) throws {
        try FrameCodec.tryEncode(data, into: &out)
    }
}
