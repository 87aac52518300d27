import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Whether the peer of a TLS connection presented a certificate. The handshake
/// verifies any certificate presented against the cluster's CA (and fails
/// otherwise), so a presented one is a cluster member's: only such a peer may
/// become a replica. Set before the connection's first request is read.
public final class PeerCertificate: Sendable {
    private let presented = Mutex(false)

    public init() {}

    public var isPresented: Bool { presented.withLock { $0 } }

    func record(_ value: Bool) {
        presented.withLock { $0 = value }
    }
}

/// Records, when the handshake completes, whether the peer presented a certificate.
final class PeerCertificateRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let certificate = PeerCertificate()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let presented = (try? context.pipeline.syncOperations.nioSSL_peerCertificate()) != nil
            certificate.record(presented)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
