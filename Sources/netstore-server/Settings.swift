import Foundation
import Logging
import NetStoreConfig
import NetStoreCore
import NetStoreServer
import NetStoreTLS

/// What the server runs with: the configuration file's entry for `--name` (if
/// any), overridden by the flags that were given, else the built-in defaults.
struct Settings {
    var server: ServerConfiguration
    var logLevel: Logger.Level
    var metrics: (host: String, port: Int)?
    var configurationFile: String?
}

/// A setting that cannot be used: the server says why and exits with status 1.
struct SettingsError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension ServerCommand {
    func resolve() throws(SettingsError) -> Settings {
        var entry: ServerEntry?
        var peers: [String] = []
        if let config {
            guard let name else {
                throw SettingsError("--config needs --name: which of the file's servers this one is")
            }
            do {
                let cluster = try ClusterConfiguration.load(from: config)
                let own = try cluster.server(named: name)
                entry = own
                peers = cluster.peers(of: name).map(\.address.description)
            } catch {
                throw SettingsError(error.message)
            }
        } else if name != nil {
            throw SettingsError("--name picks a server of --config FILE: give the file too")
        }
        let own = entry?.settings ?? ServerSettings()

        let roleText = role ?? entry?.role.rawValue ?? "primary"
        guard let serverRole = ServerRole(rawValue: roleText) else {
            throw SettingsError("--role is primary or backup, not '\(roleText)'")
        }
        let replicas = self.replicas.isEmpty ? peers : self.replicas
        if serverRole == .backup && replicas.isEmpty {
            throw SettingsError("a backup needs --replica HOST:PORT for each other server")
        }
        let keyFile = clusterKeyFile ?? own.clusterKeyFile
        if !replicas.isEmpty && keyFile == nil {
            throw SettingsError("replicated servers prove themselves to each other with a shared key: give every server the same --cluster-key-file (e.g. head -c 32 /dev/urandom | base64 > cluster.key)")
        }
        let clusterKey: String?
        do {
            clusterKey = try keyFile.map { try ClusterKey.read(from: URL(fileURLWithPath: $0)) }
        } catch {
            throw SettingsError("cannot read the cluster key \(keyFile ?? ""): \(error)")
        }
        if writeQuorum != nil && replicas.isEmpty {
            throw SettingsError("--write-quorum needs --replica: a single server is its own quorum")
        }
        let quorum = writeQuorum ?? (replicas.isEmpty ? nil : own.writeQuorum)

        let listenText = listen ?? (own.listen ?? entry?.address)?.description ?? "127.0.0.1:7070"
        guard let bound = Self.parseHostPort(listenText) else {
            throw SettingsError("--listen takes HOST:PORT, e.g. 127.0.0.1:7070, not '\(listenText)'")
        }
        let (host, port) = bound
        let advertised = address ?? entry?.address.description
        if let advertised, Self.parseHostPort(advertised) == nil {
            throw SettingsError("--address takes HOST:PORT, e.g. 10.0.0.1:7070, not '\(advertised)'")
        }
        var metrics: (host: String, port: Int)?
        if let text = metricsListen ?? own.metricsListen?.description {
            guard let parsed = Self.parseHostPort(text) else {
                throw SettingsError("--metrics-listen takes HOST:PORT, e.g. 127.0.0.1:9100, not '\(text)'")
            }
            metrics = parsed
        }
        if let retainLogEntries, retainLogEntries < 0 {
            throw SettingsError("--retain-log-entries is 0 or more, not \(retainLogEntries)")
        }
        guard tokenLifetime > 0 else { throw SettingsError("--token-lifetime must be positive") }
        let levelText = logLevel ?? own.logLevel ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw SettingsError("--log-level is one of trace, debug, info, notice, warning, error, critical, not '\(levelText)'")
        }

        let tls = try resolveTLS(own)

        let dataDirectory = (data ?? own.data).map { URL(fileURLWithPath: $0) }
            ?? ServerConfiguration.defaultDataDirectory(name: name ?? (serverRole == .primary ? "primary" : "backup-\(port)"))
        let server = ServerConfiguration(
            host: host, port: port, dataDirectory: dataDirectory,
            adminPasswordFile: (adminPasswordFile ?? own.adminPasswordFile).map { URL(fileURLWithPath: $0) },
            tokenLifetimeSeconds: tokenLifetime, role: serverRole, replicas: replicas, writeQuorum: quorum,
            clusterKey: clusterKey,
            retainedLogEntries: retainLogEntries ?? ServerConfiguration.defaultRetainedLogEntries,
            advertisedAddress: advertised, tls: tls)
        return Settings(server: server, logLevel: level, metrics: metrics, configurationFile: config)
    }

    /// TLS from --tls-cert/--tls-key/--tls-ca, each overriding the configuration's key:
    /// all three or none.
    func resolveTLS(_ own: ServerSettings) throws(SettingsError) -> ServerTLS? {
        let certificate = tlsCert ?? own.tlsCert
        let key = tlsKey ?? own.tlsKey
        let ca = tlsCa ?? own.tlsCA
        if certificate == nil && key == nil && ca == nil { return nil }
        guard let certificate, let key, let ca else {
            let missing = [("--tls-cert", certificate), ("--tls-key", key), ("--tls-ca", ca)].filter { $0.1 == nil }.map(\.0)
            throw SettingsError("TLS needs --tls-cert, --tls-key and --tls-ca (or tls-cert, tls-key and tls-ca in the configuration): \(missing.joined(separator: ", ")) missing")
        }
        do {
            return try ServerTLS(certificateFile: certificate, keyFile: key, caFile: ca)
        } catch {
            throw SettingsError(error.message)
        }
    }

    /// "HOST:PORT" or "[IPv6]:PORT" with a port from 0 (any free one) to 65535.
    static func parseHostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        return (String(host), port)
    }
}
