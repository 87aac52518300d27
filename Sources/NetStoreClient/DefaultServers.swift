#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NetStoreConfig
import NetStoreCore
import NetStoreTLS

/// Where a client finds its servers when it is not told: one rule for the
/// command line, the mount and the web viewer.
public enum DefaultServers {
    /// `--server`, else `$NETSTORE_SERVERS`, else the saved session's list, else the
    /// configuration file's servers (the primary first), else 127.0.0.1:7070.
    /// `environment` defaults to this process's.
    public static func resolve(
        flag: String?, saved: SavedSession?, environment: [String: String]? = nil
    ) throws(NetStoreError) -> [ServerAddress] {
        if let flag { return try ServerAddress.parseList(flag) }
        let environment = environment ?? Self.environment()
        if let value = environment["NETSTORE_SERVERS"], !value.isEmpty {
            do {
                return try ServerAddress.parseList(value)
            } catch {
                throw NetStoreError(.invalid, "NETSTORE_SERVERS: \(error.message)")
            }
        }
        if let saved { return saved.servers }
        if let servers = try fromConfigFile(configFilePath(environment: environment)) { return servers }
        return [ServerAddress.localDefault]
    }

    /// The CA file to verify the servers' TLS certificates with: `--tls-ca`, else
    /// `$NETSTORE_TLS_CA`, else the saved session's, else the configuration file's
    /// `tls-ca` ([defaults], or the first server that has one); nil: plain TCP.
    public static func resolveTLSCA(
        flag: String?, saved: SavedSession?, environment: [String: String]? = nil
    ) throws(NetStoreError) -> String? {
        if let flag { return flag.isEmpty ? nil : flag }
        let environment = environment ?? Self.environment()
        if let value = environment["NETSTORE_TLS_CA"] { return value.isEmpty ? nil : value }
        if let saved { return saved.tlsCA }
        let path = configFilePath(environment: environment)
        do {
            let configuration = try ClusterConfiguration.load(from: path)
            return configuration.servers.lazy.compactMap(\.settings.tlsCA).first
        } catch where error.code == .noEntry {
            return nil
        }
    }

    /// The TLS a client uses (see `resolveTLSCA`), its CA file read; nil: plain TCP.
    public static func resolveTLS(
        flag: String?, saved: SavedSession?, environment: [String: String]? = nil
    ) throws(NetStoreError) -> ClientTLS? {
        try resolveTLSCA(flag: flag, saved: saved, environment: environment).map { path throws(NetStoreError) in
            try ClientTLS(caFile: path)
        }
    }

    /// `$XDG_CONFIG_HOME/netstore/config.toml`, or `$HOME/.config/netstore/config.toml`
    /// when XDG_CONFIG_HOME is unset, empty or relative: beside the session file.
    public static func configFilePath(environment: [String: String]) -> String {
        let session = SessionFile(path: SessionFile.defaultPath(environment: environment))
        return "\(session.directory)/config.toml"
    }

    /// The servers of the configuration file at `path`, or nil when there is no such
    /// file. A file that exists but is bad is an error naming it (and the line).
    public static func fromConfigFile(_ path: String) throws(NetStoreError) -> [ServerAddress]? {
        let configuration: ClusterConfiguration
        do {
            configuration = try ClusterConfiguration.load(from: path)
        } catch where error.code == .noEntry {
            return nil
        }
        var servers: [ServerAddress] = []
        for address in configuration.clientAddresses {
            servers.append(ServerAddress(host: address.host, port: address.port))
        }
        return servers
    }

    private static func environment() -> [String: String] {
        var environment: [String: String] = [:]
        for key in ["XDG_CONFIG_HOME", "HOME", "NETSTORE_SERVERS", "NETSTORE_TLS_CA"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        if environment["HOME"] == nil, let entry = getpwuid(getuid()), let home = entry.pointee.pw_dir {
            environment["HOME"] = String(cString: home)
        }
        return environment
    }
}
