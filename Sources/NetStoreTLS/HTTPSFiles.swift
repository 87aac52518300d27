import NIOSSL
import NetStoreCore

/// The TLS configuration of an HTTPS listener (the web viewer): a certificate and its key.
public enum HTTPSFiles {
    /// Reads and checks the files (a key that does not match fails here, not at the first browser).
    public static func configuration(certificateFile: String, keyFile: String) throws(NetStoreError) -> TLSConfiguration {
        let chain = try TLSFiles.certificates(certificateFile, what: "the TLS certificate")
        let key = try TLSFiles.privateKey(keyFile)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw NetStoreError(.invalid, "cannot use the TLS certificate \(certificateFile) with the key \(keyFile): \(error) (does the key belong to the certificate?)")
        }
        return configuration
    }
}
