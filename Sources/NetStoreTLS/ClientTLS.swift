import NIOCore
import NIOSSL
import NetStoreCore

/// How a client reaches servers over TLS: the CA their certificates must chain
/// to, and optionally a certificate of its own (a server connecting to another
/// server presents one, so the other accepts it as a replica).
public struct ClientTLS: Sendable {
    /// The CA file, named in errors.
    public let caFile: String
    let context: NIOSSLContext

    /// Reads the files; the server's certificate is checked against `caFile` and
    /// against the name or IP address the client connects to.
    public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) throws(NetStoreError) {
        precondition((certificateFile == nil) == (keyFile == nil), "a client certificate comes with its key")
        self.caFile = caFile
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = .certificates(try TLSFiles.certificates(caFile, what: "the TLS CA file"))
        if let certificateFile, let keyFile {
            configuration.certificateChain = try TLSFiles.certificates(certificateFile, what: "the TLS certificate").map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFiles.privateKey(keyFile))
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw NetStoreError(.invalid, "cannot use the TLS files (CA \(caFile)\(certificateFile.map { ", certificate \($0)" } ?? "")): \(error)")
        }
    }

    /// The handler that starts a connection's pipeline. An IP address is checked
    /// against the certificate's IP SANs (it cannot go in SNI), a name against its DNS SANs.
    public func makeHandler(host: String) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: Self.isIPAddress(host) ? nil : host)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
