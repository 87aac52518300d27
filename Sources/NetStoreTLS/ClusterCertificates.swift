#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation
import NetStoreCore
import SwiftASN1
import X509

/// A small cluster's private CA and one certificate per host (P-256), each good
/// for both ends of a connection: as a server to clients, and as a client to the
/// other servers (replication presents it). Files in the directory:
/// `ca.pem` (give it to every server and client), `ca-key.pem` (keep it offline),
/// `NAME.pem` and `NAME-key.pem` per host. Keys are written 0600.
public enum ClusterCertificates {
    public static let caFileName = "ca.pem"
    public static let caKeyFileName = "ca-key.pem"

    /// Creates the CA (or reuses the one already in `directory`) and a certificate
    /// for each host; refuses to overwrite a host's existing files. Returns the paths written.
    @discardableResult
    public static func create(
        in directory: String, hosts: [CertificateHost], validDays: Int = 3650, now: Date = Date()
    ) throws(NetStoreError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw NetStoreError(.io, "cannot create \(directory): \(error.localizedDescription)")
        }
        for host in hosts {
            for file in ["\(host.name).pem", "\(host.name)-key.pem"] where FileManager.default.fileExists(atPath: "\(directory)/\(file)") {
                throw NetStoreError(.exists, "\(directory)/\(file) exists already: remove it to make a new certificate for \(host.name)")
            }
        }
        var written: [String] = []
        let notBefore = now.addingTimeInterval(-3600)  // tolerates clocks a little behind
        let notAfter = now.addingTimeInterval(Double(validDays) * 86_400)
        do {
            let (caKey, caCertificate, created) = try loadOrMakeAuthority(in: directory, notBefore: notBefore, notAfter: notAfter)
            if created { written += ["\(directory)/\(caKeyFileName)", "\(directory)/\(caFileName)"] }
            let authorityKeyID = try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier
            for host in hosts {
                let key = P256.Signing.PrivateKey()
                let names = host.dnsNames.map { GeneralName.dnsName($0) }
                    + host.ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
                let extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                    AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
                }
                let certificate = try Certificate(
                    version: .v3, serialNumber: Certificate.SerialNumber(),
                    publicKey: Certificate.PublicKey(key.publicKey),
                    notValidBefore: notBefore, notValidAfter: notAfter,
                    issuer: caCertificate.subject,
                    subject: try DistinguishedName { OrganizationName("NetStore cluster"); CommonName(host.name) },
                    signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                    issuerPrivateKey: Certificate.PrivateKey(caKey))
                let keyPath = "\(directory)/\(host.name)-key.pem"
                let certificatePath = "\(directory)/\(host.name).pem"
                try writeFile(key.pemRepresentation, to: keyPath, mode: 0o600)
                try writeFile(try certificate.serializeAsPEM().pemString, to: certificatePath, mode: 0o644)
                written += [keyPath, certificatePath]
            }
        } catch let error as NetStoreError {
            throw error
        } catch {
            throw NetStoreError(.invalid, "cannot make the certificates in \(directory): \(error)")
        }
        return written
    }

    private static func loadOrMakeAuthority(
        in directory: String, notBefore: Date, notAfter: Date
    ) throws -> (P256.Signing.PrivateKey, Certificate, created: Bool) {
        let keyPath = "\(directory)/\(caKeyFileName)"
        let certificatePath = "\(directory)/\(caFileName)"
        if FileManager.default.fileExists(atPath: keyPath) {
            let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
            let certificate = try Certificate(pemEncoded: String(contentsOfFile: certificatePath, encoding: .utf8))
            return (key, certificate, false)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { OrganizationName("NetStore cluster"); CommonName("NetStore cluster CA") }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
        try writeFile(key.pemRepresentation, to: keyPath, mode: 0o600)
        try writeFile(try certificate.serializeAsPEM().pemString, to: certificatePath, mode: 0o644)
        return (key, certificate, true)
    }

    /// Creates the file with its final mode (a key is never readable by others, not even briefly).
    static func writeFile(_ text: String, to path: String, mode: mode_t) throws(NetStoreError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else {
            throw NetStoreError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard count == bytes.count, fchmod(descriptor, mode) == 0 else {
            throw NetStoreError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
