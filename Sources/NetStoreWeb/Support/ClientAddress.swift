import HTTPTypes
import Hummingbird

/// The browser's address for throttling: the HTTP connection's remote address,
/// or, when that connection comes from a trusted proxy, the last address in
/// X-Forwarded-For that is not a trusted proxy itself. X-Forwarded-For from
/// anyone else is ignored, since a browser can send whatever it likes there.
enum ClientAddress {
    /// Names requests whose connection has no IP address (in-process tests).
    static let unknown = "unknown"

    static func of(_ request: Request, remote: String?, trustedProxies: Set<String>) -> String {
        resolve(remote: remote, forwardedFor: request.headers[values: .xForwardedFor], trustedProxies: trustedProxies)
    }

    static func resolve(remote: String?, forwardedFor: [String], trustedProxies: Set<String>) -> String {
        guard let remote else { return unknown }
        guard trustedProxies.contains(remote) else { return remote }
        // Each proxy appends the address it saw, so the right end is the most trustworthy.
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trustedProxies.contains(hop) {
            // An IPv4 or IPv6 address, not arbitrary text: it names a throttle entry and appears in the log.
            guard hop.utf8.count <= 45, hop.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return remote }
            return hop
        }
        return remote
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
