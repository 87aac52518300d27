import NIOCore
import NetStoreCore

/// Decodes request frames for the server's pipeline:
/// `ByteToMessageHandler(RequestFrameDecoder())`. A malformed frame throws its
/// `ProtocolError` into the pipeline (`errorCaught`); the handler that sees it
/// closes the connection, as the protocol requires.
///
/// Sendable because it holds only immutable limits; the handler wrapping it
/// is not, as with every NIO handler. At end of stream the default
/// `decodeLast` still delivers whole frames; half a frame is dropped with
/// the connection.
public struct RequestFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = RequestFrame

    private let decoder: FrameDecoder

    public init(maxFrameSize: Int = Limits.maxFrameSize) {
        self.decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decoder.nextRequest(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}
