#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NetStoreCore

/// One host of a cluster as `netstore cert init --host` names it: `NAME=ADDR[,ADDR...]`.
/// NAME names its files; NAME (if it is a DNS name) and every ADDR (a DNS name or an
/// IP address) become the certificate's subject alternative names.
public struct CertificateHost: Sendable, Hashable {
    public var name: String
    public var dnsNames: [String]
    /// Raw address bytes: 4 for IPv4, 16 for IPv6.
    public var ipAddresses: [[UInt8]]

    public init(name: String, dnsNames: [String], ipAddresses: [[UInt8]]) {
        self.name = name
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
    }

    public init(parsing text: String) throws(NetStoreError) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
            throw NetStoreError(.invalid, "--host \(text): NAME must be letters, digits, '-', '_' or '.' (it names the files), as in --host a=10.0.0.1")
        }
        var dnsNames: [String] = []
        var ipAddresses: [[UInt8]] = []
        if Self.isDNSName(name) { dnsNames.append(name) }
        let addresses = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
        for address in addresses {
            if let bytes = Self.ipBytes(address) {
                ipAddresses.append(bytes)
            } else if Self.isDNSName(address) {
                if !dnsNames.contains(address) { dnsNames.append(address) }
            } else {
                throw NetStoreError(.invalid, "--host \(text): '\(address)' is neither an IP address nor a DNS name")
            }
        }
        if let bytes = Self.ipBytes(name) { ipAddresses.append(bytes) }
        guard !dnsNames.isEmpty || !ipAddresses.isEmpty else {
            throw NetStoreError(.invalid, "--host \(text): give the addresses clients and servers reach it by, as in --host \(name)=10.0.0.1")
        }
        self.init(name: name, dnsNames: dnsNames, ipAddresses: ipAddresses)
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        let trimmed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func isDNSName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253, ipBytes(text) == nil else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
        }
    }
}
