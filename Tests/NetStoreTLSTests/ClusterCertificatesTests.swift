import Foundation
import NIOSSL
import NetStoreCore
import SwiftASN1
import Testing
import X509
@testable import NetStoreTLS

@Suite("Cluster certificates")
struct ClusterCertificatesTests {
    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netstore-certs-\(UUID().uuidString)").path
        return path
    }

    static func certificate(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
    }

    @Test("a CA and host certificates: signed by the CA, SANs from the names, both usages, keys 0600")
    func create() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hosts = try ["a=10.0.0.1,a.example.org", "b=127.0.0.1,::1"].map(CertificateHost.init(parsing:))
        let written = try ClusterCertificates.create(in: directory, hosts: hosts)
        #expect(Set(written.map { ($0 as NSString).lastPathComponent })
                == ["ca.pem", "ca-key.pem", "a.pem", "a-key.pem", "b.pem", "b-key.pem"])
        for key in ["ca-key.pem", "a-key.pem", "b-key.pem"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(key)")[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key)")
        }

        let ca = try Self.certificate("\(directory)/ca.pem")
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let a = try Self.certificate("\(directory)/a.pem")
        #expect(a.issuer == ca.subject)
        #expect(ca.publicKey.isValidSignature(a.signature, for: a))
        let names = try #require(try a.extensions.subjectAlternativeNames)
        #expect(Array(names) == [.dnsName("a"), .dnsName("a.example.org"),
                                 .ipAddress(ASN1OctetString(contentBytes: [10, 0, 0, 1]))])
        let usages = try #require(try a.extensions.extendedKeyUsage)
        #expect(usages.contains(.serverAuth) && usages.contains(.clientAuth))
        let b = try Self.certificate("\(directory)/b.pem")
        #expect(try b.extensions.subjectAlternativeNames?.count == 3)

        // The files load as a server's TLS (the key matches its certificate).
        _ = try ServerTLS(certificateFile: "\(directory)/a.pem", keyFile: "\(directory)/a-key.pem", caFile: "\(directory)/ca.pem")
    }

    @Test("a CA already in the directory signs hosts added later; a host's files are never overwritten")
    func addHostLater() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ClusterCertificates.create(in: directory, hosts: [CertificateHost(parsing: "a=127.0.0.1")])
        let written = try ClusterCertificates.create(in: directory, hosts: [CertificateHost(parsing: "c=127.0.0.3")])
        #expect(written.count == 2)
        let ca = try Self.certificate("\(directory)/ca.pem")
        let c = try Self.certificate("\(directory)/c.pem")
        #expect(ca.publicKey.isValidSignature(c.signature, for: c))
        #expect(throws: NetStoreError.self) {
            try ClusterCertificates.create(in: directory, hosts: [CertificateHost(parsing: "a=127.0.0.1")])
        }
    }

    @Test("--host values: names, addresses and mistakes")
    func hostParsing() throws {
        let host = try CertificateHost(parsing: "node-1=10.0.0.5,[fd00::1],node-1.lan")
        #expect(host.name == "node-1")
        #expect(host.dnsNames == ["node-1", "node-1.lan"])
        #expect(host.ipAddresses.map(\.count) == [4, 16])
        #expect(try CertificateHost(parsing: "127.0.0.1").ipAddresses == [[127, 0, 0, 1]])
        #expect(throws: NetStoreError.self) { try CertificateHost(parsing: "=10.0.0.1") }
        #expect(throws: NetStoreError.self) { try CertificateHost(parsing: "a=not an address") }
        #expect(throws: NetStoreError.self) { try CertificateHost(parsing: "a/b=10.0.0.1") }
    }

    @Test("missing or wrong files are errors that name the file")
    func badFiles() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ClusterCertificates.create(in: directory, hosts: [CertificateHost(parsing: "a=127.0.0.1"), CertificateHost(parsing: "b=127.0.0.2")])
        let missing = #expect(throws: NetStoreError.self) { try ClientTLS(caFile: "\(directory)/nope.pem") }
        #expect(missing?.message.contains("\(directory)/nope.pem does not exist") == true)
        let notPEM = #expect(throws: NetStoreError.self) { try ClientTLS(caFile: "\(directory)/a-key.pem") }
        #expect(notPEM?.message.contains("a-key.pem") == true)
        let mismatched = #expect(throws: NetStoreError.self) {
            try ServerTLS(certificateFile: "\(directory)/a.pem", keyFile: "\(directory)/b-key.pem", caFile: "\(directory)/ca.pem")
        }
        #expect(mismatched?.message.contains("does the key belong to the certificate?") == true)
    }
}
