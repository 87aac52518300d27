#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NetStoreCore

/// What `netstore login` keeps for later commands: who logged in, the token,
/// and the servers it was issued by.
public struct SavedSession: Sendable, Hashable {
    public var user: String
    public var token: String
    public var servers: [ServerAddress]
    /// The CA file the servers' TLS certificates were verified with; nil: plain TCP.
    public var tlsCA: String?

    public init(user: String, token: String, servers: [ServerAddress], tlsCA: String? = nil) {
        self.user = user
        self.token = token
        self.servers = servers
        self.tlsCA = tlsCA
    }
}

/// The session file: `$XDG_CONFIG_HOME/netstore/session` (by default
/// `~/.config/netstore/session`). A token is as good as a password, so the
/// file is mode 0600 in a directory of mode 0700, and is replaced atomically.
///
/// Format: `key=value` lines (`user`, `servers`, `token`, and `tls-ca` when the
/// login used TLS); `#` starts a comment.
public struct SessionFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The standard location for this process's environment.
    public static func standard() -> SessionFile {
        var environment: [String: String] = [:]
        for key in ["XDG_CONFIG_HOME", "HOME"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        if environment["HOME"] == nil, let entry = getpwuid(getuid()), let home = entry.pointee.pw_dir {
            environment["HOME"] = String(cString: home)
        }
        return SessionFile(path: defaultPath(environment: environment))
    }

    /// `$XDG_CONFIG_HOME/netstore/session`, or `$HOME/.config/netstore/session`
    /// when XDG_CONFIG_HOME is unset, empty or relative (as the XDG spec says).
    public static func defaultPath(environment: [String: String]) -> String {
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
            return "\(config)/netstore/session"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        return "\(home.hasSuffix("/") ? String(home.dropLast()) : home)/.config/netstore/session"
    }

    public var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The saved session, or nil when there is none.
    public func load() throws(NetStoreError) -> SavedSession? {
        let text: String
        do throws(NetStoreError) {
            let file = try LocalFile(readingAt: path)
            defer { file.close() }
            let size = try file.status().size
            guard size <= 64 * 1024 else { throw NetStoreError(.invalid, "\(path): too large for a session file") }
            let bytes = try file.read(count: Int(size), at: 0, allocator: ByteBufferAllocator())
            text = String(buffer: bytes)
        } catch where error.code == .noEntry {
            return nil
        }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw NetStoreError(.invalid, "\(path): unreadable line '\(trimmed)': delete the file and log in again")
            }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        guard let user = values["user"], let token = values["token"], !token.isEmpty,
              let serverList = values["servers"] else {
            throw NetStoreError(.invalid, "\(path): incomplete session file: log in again")
        }
        let servers: [ServerAddress]
        do {
            servers = try ServerAddress.parseList(serverList)
        } catch {
            throw NetStoreError(.invalid, "\(path): \(error.message)")
        }
        let tlsCA = values["tls-ca"].flatMap { $0.isEmpty ? nil : $0 }
        return SavedSession(user: user, token: token, servers: servers, tlsCA: tlsCA)
    }

    /// Writes the session, replacing any earlier one.
    public func save(_ session: SavedSession) throws(NetStoreError) {
        precondition(!session.token.contains(where: \.isNewline) && !session.user.contains(where: \.isNewline),
                     "session fields are single lines")
        precondition(!(session.tlsCA?.contains(where: \.isNewline) ?? false), "session fields are single lines")
        try Self.makePrivateDirectory(directory)
        let text = """
            # NetStore session of \(session.user). The token works like a password: keep this file private.
            user=\(session.user)
            servers=\(ServerAddress.formatList(session.servers))
            token=\(session.token)

            """ + (session.tlsCA.map { "tls-ca=\($0)\n" } ?? "")
        let temporary = NetStoreClient.temporaryPath(beside: path)
        let file = try LocalFile(creatingAt: temporary)  // created 0600
        defer { file.close() }
        do throws(NetStoreError) {
            try file.setMode(0o600)
            try file.write(ByteBuffer(string: text), at: 0)
            try file.sync()
            if rename(temporary, path) != 0 { throw LocalFile.error(path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Removes the saved session; no file is not an error.
    public func delete() throws(NetStoreError) {
        if unlink(path) != 0, errno != ENOENT { throw LocalFile.error(path) }
    }

    /// Creates the directory (and its parents) if missing; the last one is made 0700.
    static func makePrivateDirectory(_ directory: String) throws(NetStoreError) {
        var prefix = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            prefix += "/\(component)"
            if mkdir(prefix, 0o700) != 0, errno != EEXIST { throw LocalFile.error(prefix) }
        }
        if chmod(directory, 0o700) != 0 { throw LocalFile.error(directory) }
    }
}
