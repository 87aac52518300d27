import HTTPTypes
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Hummingbird

/// The browser's address for throttling: the HTTP connection's remote address,
/// or, when that connection comes from a trusted proxy, the last address in
/// X-Forwarded-For that is not a trusted proxy itself. X-Forwarded-For from
/// anyone else is ignored, since a browser can send whatever it likes there.
/// IPv6 addresses are counted by their /64.
enum ClientAddress {
    /// Names requests whose connection has no IP address (in-process tests).
    static let unknown = "unknown"

    static func of(_ request: Request, remote: String?, trustedProxies: Set<String>) -> String {
        resolve(remote: remote, forwardedFor: request.headers[values: .xForwardedFor], trustedProxies: trustedProxies)
    }

    static func resolve(remote: String?, forwardedFor: [String], trustedProxies: Set<String>) -> String {
        guard let remote = remote.map(unmapped) else { return unknown }
        guard trustedProxies.contains(remote) else { return throttleKey(remote) }
        // Each proxy appends the address it saw, so the right end is the most trustworthy.
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { unmapped(String($0).trimmingSpaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trustedProxies.contains(hop) {
            // An IPv4 or IPv6 address, not arbitrary text: it names a throttle entry and appears in the log.
            guard hop.utf8.count <= 45, hop.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return remote }
            return throttleKey(hop)
        }
        return remote
    }

    /// An IPv4 client of a dual-stack socket appears as ::ffff:a.b.c.d.
    static func unmapped(_ address: String) -> String {
        let lower = address.lowercased()
        return lower.hasPrefix("::ffff:") && lower.contains(".") ? String(lower.dropFirst(7)) : address
    }

    /// IPv6 hosts usually hold a whole /64 and can pick any address in it, so
    /// they are counted by that prefix; IPv4 addresses count one by one.
    static func throttleKey(_ address: String) -> String {
        guard address.contains(":") else { return address }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
