import NIOCore
import NIOSSL
import NetStoreCore

/// Plain words for TLS failures, naming the server and what to do.
public enum TLSFailure {
    /// Why a TLS handshake with `server` failed, for a client that trusts `caFile`.
    public static func describe(_ error: any Error, server: String, caFile: String) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return "the TLS certificate of \(server) is not signed by the CA in \(caFile): give the cluster's CA with --tls-ca FILE (or NETSTORE_TLS_CA)"
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the TLS certificate of \(server) does not list the name or address it was reached by: reach it by a name or address its certificate lists, or make its certificate with that name (netstore cert init --host NAME=ADDR)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("HTTP_REQUEST")
            || text.contains("uncleanShutdown") || text.contains("UNEXPECTED_RECORD") {
            return "\(server) did not answer with TLS: if it runs without TLS, connect without --tls-ca (and NETSTORE_TLS_CA); otherwise start it with --tls-cert, --tls-key and --tls-ca"
        }
        if text.contains("ALERT") {
            return "\(server) refused the TLS handshake (\(text)): check that its CA is \(caFile)"
        }
        return "TLS handshake with \(server) failed: \(text)"
    }

    /// A peer that went away without ending TLS: a killed client, not worth a warning.
    public static func isUncleanShutdown(_ error: any Error) -> Bool {
        if case NIOSSLError.uncleanShutdown = error { return true }
        return false
    }

    /// Whether an error ended a handshake (rather than a connection that worked).
    public static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }
}

extension TLSFailure {
    /// Why a server refused or lost an incoming TLS connection.
    public static func describeIncoming(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return "the peer presented a certificate that is not signed by this cluster's CA (\(text))"
        }
        if text.contains("ALERT") {
            return "the peer rejected this server's certificate, probably because it trusts another CA (\(text))"
        }
        return text
    }
}
