import Foundation
import NIOSSL
import NetStoreCore

/// Reads PEM files into NIOSSL values, with errors that name the file and what to do.
enum TLSFiles {
    static func certificates(_ path: String, what: String) throws(NetStoreError) -> [NIOSSLCertificate] {
        let bytes = try read(path, what: what)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw NetStoreError(.invalid, "\(what) \(path) is not a PEM certificate file: \(error) (make one with netstore cert init)")
        }
        guard !chain.isEmpty else {
            throw NetStoreError(.invalid, "\(what) \(path) holds no certificate: expected -----BEGIN CERTIFICATE----- blocks")
        }
        return chain
    }

    static func privateKey(_ path: String) throws(NetStoreError) -> NIOSSLPrivateKey {
        let bytes = try read(path, what: "the TLS key")
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw NetStoreError(.invalid, "the TLS key \(path) is not a PEM private key: \(error)")
        }
    }

    private static func read(_ path: String, what: String) throws(NetStoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
            throw NetStoreError(.noEntry, "\(what) \(path) \(reason)")
        }
        return Array(data)
    }
}
