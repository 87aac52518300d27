// Stand-ins for the protocol module's handlers until they land; removed on merge.
import NIOCore
import NetStoreCore
import NetStoreProtocol

struct ResponseFrameDecoder: ByteToMessageDecoder, Sendable {
    typealias InboundOut = ResponseFrame
    let decoder = FrameDecoder()
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decoder.nextResponse(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

struct RequestFrameEncoder: MessageToByteEncoder, Sendable {
    typealias OutboundIn = RequestFrame
    func encode(data: RequestFrame, out: inout ByteBuffer) throws {
        FrameCodec.encode(data, into: &out)
    }
}
