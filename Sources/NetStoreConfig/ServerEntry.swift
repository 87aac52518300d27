/// One server of the cluster as the configuration file describes it.
public struct ServerEntry: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case primary, backup
    }

    /// The name `netstore-server --name` picks it by (and the systemd instance name).
    public var name: String
    /// Where the other servers and the clients reach it; also how replica ids are derived.
    public var address: HostPort
    /// The role it starts in; promotion may change it later.
    public var role: Role
    /// Its settings: its own entry's, else `[defaults]`'s.
    public var settings: ServerSettings
    /// The file's line of each key that was set for this server (its own or from
    /// `[defaults]`), and of the `[[server]]` header under "", for messages.
    public var lines: [String: Int]

    public init(name: String, address: HostPort, role: Role, settings: ServerSettings = ServerSettings(),
                lines: [String: Int] = [:]) {
        self.name = name
        self.address = address
        self.role = role
        self.settings = settings
        self.lines = lines
    }
}

/// The per-server settings; nil means "not set": the server's built-in default
/// (or a command-line flag) applies.
public struct ServerSettings: Sendable, Hashable {
    /// HOST:PORT to bind; nil: the server's `address`.
    public var listen: HostPort?
    /// Data directory (absolute; a relative one in the file is taken from the file's directory).
    public var data: String?
    /// On how many servers a change must be durable; nil: a majority.
    public var writeQuorum: Int?
    public var clusterKeyFile: String?
    public var adminPasswordFile: String?
    /// trace, debug, info, notice, warning, error or critical.
    public var logLevel: String?
    /// HOST:PORT of the Prometheus endpoint; nil: none.
    public var metricsListen: HostPort?
    /// TLS files (PEM): this server's certificate and key, and the cluster's CA. All three
    /// or none; a client reading the file takes `tls-ca` to verify the servers.
    public var tlsCert: String?
    public var tlsKey: String?
    public var tlsCA: String?

    public init() {}

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The TLS keys that are set ("tls-cert", ...).
    public var tlsKeysSet: [String] {
        [("tls-cert", tlsCert), ("tls-key", tlsKey), ("tls-ca", tlsCA)].compactMap { $0.1 == nil ? nil : $0.0 }
    }

    /// Each value of `other` that is set replaces this one's.
    func overridden(by other: ServerSettings) -> ServerSettings {
        var merged = self
        merged.listen = other.listen ?? listen
        merged.data = other.data ?? data
        merged.writeQuorum = other.writeQuorum ?? writeQuorum
        merged.clusterKeyFile = other.clusterKeyFile ?? clusterKeyFile
        merged.adminPasswordFile = other.adminPasswordFile ?? adminPasswordFile
        merged.logLevel = other.logLevel ?? logLevel
        merged.metricsListen = other.metricsListen ?? metricsListen
        merged.tlsCert = other.tlsCert ?? tlsCert
        merged.tlsKey = other.tlsKey ?? tlsKey
        merged.tlsCA = other.tlsCA ?? tlsCA
        return merged
    }
}
