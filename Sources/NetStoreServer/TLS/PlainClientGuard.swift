import Logging
import NIOCore
import NetStoreCore
import NetStoreProtocol

/// First in a TLS listener's pipeline: a connection whose first byte does not
/// start a TLS handshake record (0x16) is a plain client. It gets one plain error
/// frame saying TLS is required (its client reports that) and is closed. A frame
/// of the plain protocol never starts with 0x16: that would be a length past the
/// frame limit.
final class PlainClientGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private var refused = false

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        let bytes = unwrapInboundIn(data)
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        if first == 0x16 {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            return
        }
        refused = true
        let peer = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        logger.warning("refused a connection without TLS: this server accepts only TLS", metadata: ["peer": "\(peer)"])
        var reply = context.channel.allocator.buffer(capacity: 256)
        let error = NetStoreError(.protocolError, "the server accepts only TLS connections: give its CA with --tls-ca FILE (or NETSTORE_TLS_CA, or tls-ca in the client configuration)")
        try? ResponseFrameEncoder().encode(data: ResponseFrame(requestID: 0, opcode: .ping, result: .failure(error)), out: &reply)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }
}
