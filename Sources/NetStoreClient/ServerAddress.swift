import NetStoreCore

/// A server to connect to: a host name or IP address and a TCP port.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public static let defaultPort = 7070
    public static let localDefault = ServerAddress(host: "127.0.0.1", port: defaultPort)

    public var host: String
    public var port: Int

    public init(host: String, port: Int = ServerAddress.defaultPort) {
        precondition((1...65535).contains(port), "port \(port) out of range")
        self.host = host
        self.port = port
    }

    /// Parses "HOST", "HOST:PORT", "[IPv6]" or "[IPv6]:PORT"; the port defaults to 7070.
    public init(parsing text: String) throws(NetStoreError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else {
            throw NetStoreError(.invalid, "empty server address: write HOST or HOST:PORT")
        }
        var host = trimmed
        var portText: Substring?
        if trimmed.hasPrefix("[") {
            // A bracketed IPv6 literal, perhaps followed by ":PORT".
            guard let close = trimmed.firstIndex(of: "]") else {
                throw NetStoreError(.invalid, "server address '\(text)': missing ']' after the IPv6 address")
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else {
                    throw NetStoreError(.invalid, "server address '\(text)': expected ':PORT' after ']'")
                }
                portText = rest.dropFirst()
            }
        } else if let colon = trimmed.lastIndex(of: ":") {
            if trimmed[..<colon].contains(":") {
                // Several colons and no brackets: a bare IPv6 address without a port.
                host = trimmed
            } else {
                host = trimmed[..<colon]
                portText = trimmed[trimmed.index(after: colon)...]
            }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw NetStoreError(.invalid, "server address '\(text)': missing or invalid host")
        }
        var port = Self.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw NetStoreError(.invalid, "server address '\(text)': the port must be a number from 1 to 65535")
            }
            port = value
        }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list ("a:7070,b:7071"); the list must name at least one server.
    /// Duplicates are dropped; the order is kept (it is the order servers are tried in).
    public static func parseList(_ text: String) throws(NetStoreError) -> [ServerAddress] {
        var servers: [ServerAddress] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            if part.trimmingWhitespace().isEmpty { continue }
            let address = try ServerAddress(parsing: String(part))
            if !servers.contains(address) { servers.append(address) }
        }
        guard !servers.isEmpty else {
            throw NetStoreError(.invalid, "no server given: write HOST:PORT[,HOST:PORT...]")
        }
        return servers
    }

    /// Formats a list the way `parseList` reads it.
    public static func formatList(_ servers: [ServerAddress]) -> String {
        servers.map(\.description).joined(separator: ",")
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        let text = self[...]
        var start = text.startIndex
        var end = text.endIndex
        while start < end, text[start].isWhitespace { start = text.index(after: start) }
        while end > start, text[text.index(before: end)].isWhitespace { end = text.index(before: end) }
        return Substring(text[start..<end])
    }
}
