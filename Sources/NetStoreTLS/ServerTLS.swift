import NIOCore
import NIOSSL
import NetStoreCore

/// A server's TLS: its certificate and key, and the cluster's CA. Clients need no
/// certificate; a peer that presents one must chain to the CA (the handshake fails
/// otherwise), and only such a peer may become a replica. The same files make the
/// client side this server uses towards the other servers.
public struct ServerTLS: Sendable {
    public let certificateFile: String
    public let keyFile: String
    public let caFile: String
    let context: NIOSSLContext
    /// Towards the other servers: verifies them against the CA and presents this server's certificate.
    public let peerClient: ClientTLS

    public init(certificateFile: String, keyFile: String, caFile: String) throws(NetStoreError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        let chain = try TLSFiles.certificates(certificateFile, what: "the TLS certificate")
        let key = try TLSFiles.privateKey(keyFile)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(try TLSFiles.certificates(caFile, what: "the TLS CA file"))
        // Clients log in with passwords and present nothing; servers present the cluster's certificates.
        configuration.certificateVerification = .optionalVerification
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw NetStoreError(.invalid, "cannot use the TLS certificate \(certificateFile) with the key \(keyFile): \(error) (does the key belong to the certificate?)")
        }
        peerClient = try ClientTLS(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile)
    }

    public func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: context)
    }
}
