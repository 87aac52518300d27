import Logging
import NIOCore

/// First in a plain listener's pipeline: a connection that opens with a TLS
/// handshake record (0x16) is a client configured for TLS. The frame decoder
/// refuses it as a malformed frame; this says why in words first.
final class TLSClientNotice: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) == 0x16 {
            let peer = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
            logger.warning("a client began a TLS handshake, but this server runs without TLS: start it with --tls-cert, --tls-key and --tls-ca, or connect without --tls-ca", metadata: ["peer": "\(peer)"])
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
