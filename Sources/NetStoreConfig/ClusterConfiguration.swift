#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NetStoreCore

/// The cluster's configuration file: every server (name, address, role) and each
/// one's settings. Servers start from it (`netstore-server --config FILE --name NAME`),
/// clients take the server list from it. The format is in docs/deploy.md.
///
/// ```toml
/// [defaults]
/// cluster-key-file = "/etc/netstore/cluster.key"
///
/// [[server]]
/// name = "a"
/// address = "10.0.0.1:7070"
/// role = "primary"
/// ```
public struct ClusterConfiguration: Sendable, Hashable {
    /// The file it was read from, as given; messages name it.
    public var file: String
    /// In the file's order.
    public var servers: [ServerEntry]

    public init(file: String, servers: [ServerEntry]) {
        self.file = file
        self.servers = servers
    }

    /// Files larger than this are not configuration files.
    public static let maxFileSize = 1 << 20

    /// Reads and parses the file; every error names the file (and the line where known).
    public static func load(from path: String) throws(NetStoreError) -> ClusterConfiguration {
        try parse(try readText(path), file: path)
    }

    /// Parses the text of a configuration file; `file` names it in errors, and
    /// relative paths in it are taken from its directory.
    public static func parse(_ text: String, file: String) throws(NetStoreError) -> ClusterConfiguration {
        try ConfigurationParser(file: file, text: text).parse()
    }

    /// The entry `netstore-server --name` asked for.
    public func server(named name: String) throws(NetStoreError) -> ServerEntry {
        guard let entry = servers.first(where: { $0.name == name }) else {
            throw NetStoreError(.invalid, "\(file): no server named '\(name)' (the file names \(servers.map { "'\($0.name)'" }.joined(separator: ", ")))")
        }
        return entry
    }

    /// Every server but the named one: its replicas.
    public func peers(of name: String) -> [ServerEntry] {
        servers.filter { $0.name != name }
    }

    /// The addresses a client tries, the primary first, then the file's order.
    public var clientAddresses: [HostPort] {
        (servers.filter { $0.role == .primary } + servers.filter { $0.role != .primary }).map(\.address)
    }

    /// "FILE:LINE" of a key of a server's entry (or its `[[server]]` header), for messages.
    public func location(of key: String, in entry: ServerEntry) -> String {
        guard let line = entry.lines[key] ?? entry.lines[""] else { return file }
        return "\(file):\(line)"
    }

    private static func readText(_ path: String) throws(NetStoreError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(path)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= maxFileSize else {
                throw NetStoreError(.fileTooBig, "\(path): larger than \(maxFileSize) bytes: not a NetStore configuration file")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw NetStoreError(.invalid, "\(path): not UTF-8 text")
        }
        return text
    }

    private static func failure(_ path: String) -> NetStoreError {
        let number = errno
        let code = ErrorCode.allCases.first { Int32($0.rawValue) == number && $0.rawValue < 1000 } ?? .io
        return NetStoreError(code, "cannot read the configuration file \(path): \(String(cString: strerror(number)))")
    }
}
