import Foundation
import NetStoreCore
import NetStoreTLS

/// Everything a server needs to start; the executable builds it from flags.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: URL
    /// Where the first admin's password comes from; nil generates one.
    public var adminPasswordFile: URL?
    /// How many requests one connection may have in flight before the server stops reading from it.
    public var maxRequestsInFlightPerConnection: Int
    /// Unreferenced blocks younger than this are kept: an upload may be about to commit them.
    public var garbageGraceSeconds: Int64
    public var garbageIntervalSeconds: Int64
    /// Threads that run SQLite and block I/O, off the network event loops.
    public var storageThreads: Int
    /// How long a session token from LOGIN stays valid.
    public var tokenLifetimeSeconds: Int64
    /// `.primary` takes office at start (and creates the first admin); `.backup` follows.
    public var role: ServerRole
    /// The other servers of the cluster, HOST:PORT as every server spells them
    /// (replica ids come from the sorted list of all addresses, this one included).
    public var replicas: [String]
    /// On how many servers a change must be durable before it is answered; nil: a majority.
    public var writeQuorum: Int?
    /// How long a change may wait for the write quorum before its client is told.
    public var proposalTimeoutSeconds: Int
    /// The secret replicated servers prove to each other before any replication
    /// request is accepted; required with `replicas`.
    public var clusterKey: String?
    /// Applied log entries kept for backups that fall behind; older ones are dropped,
    /// and a backup that needs them is sent a snapshot instead.
    public var retainedLogEntries: Int
    /// This server's address as the others name it (HOST:PORT), when that is not the
    /// one it binds: a server listening on 0.0.0.0:7070 is 10.0.0.1:7070 to the others.
    public var advertisedAddress: String?
    /// With TLS the client port speaks only TLS, and the connections to the other
    /// servers present this server's certificate; nil: plain TCP (unencrypted).
    public var tls: ServerTLS?

    public init(
        host: String = "127.0.0.1",
        port: Int = 7070,
        dataDirectory: URL,
        adminPasswordFile: URL? = nil,
        maxRequestsInFlightPerConnection: Int = 16,
        garbageGraceSeconds: Int64 = 3600,
        garbageIntervalSeconds: Int64 = 600,
        storageThreads: Int = 8,
        tokenLifetimeSeconds: Int64 = 30 * 24 * 3600,
        role: ServerRole = .primary,
        replicas: [String] = [],
        writeQuorum: Int? = nil,
        proposalTimeoutSeconds: Int = 10,
        clusterKey: String? = nil,
        retainedLogEntries: Int = Self.defaultRetainedLogEntries,
        advertisedAddress: String? = nil,
        tls: ServerTLS? = nil
    ) {
        self.tls = tls
        precondition(retainedLogEntries >= 0, "the retained log cannot be negative")
        self.retainedLogEntries = retainedLogEntries
        self.advertisedAddress = advertisedAddress
        self.role = role
        self.replicas = replicas
        self.writeQuorum = writeQuorum
        self.proposalTimeoutSeconds = proposalTimeoutSeconds
        self.clusterKey = clusterKey
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.adminPasswordFile = adminPasswordFile
        self.maxRequestsInFlightPerConnection = maxRequestsInFlightPerConnection
        self.garbageGraceSeconds = garbageGraceSeconds
        self.garbageIntervalSeconds = garbageIntervalSeconds
        self.storageThreads = storageThreads
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
    }

    /// Enough for a backup that was away for a while to catch up from the log.
    public static let defaultRetainedLogEntries = 100_000

    /// `~/.local/share/netstore/primary`, or under `$XDG_DATA_HOME` when set.
    public static func defaultDataDirectory(name: String = "primary") -> URL {
        let env = ProcessInfo.processInfo.environment
        let base: URL
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg)
        } else {
            base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share")
        }
        return base.appendingPathComponent("netstore").appendingPathComponent(name)
    }
}

public enum ServerRole: String, Sendable {
    case primary, backup
}

extension ServerConfiguration {
    /// This server's own address as the others name it.
    public var ownAddress: String { advertisedAddress ?? "\(host):\(port)" }

    /// Every server's replica id: its position (from 1) in the sorted list of all
    /// addresses, this one included, so every server derives the same ids.
    public func replicaIDs() throws -> (own: UInt32, all: [String: UInt32]) {
        let all = Set(replicas + [ownAddress]).sorted()
        guard all.count == replicas.count + 1 else {
            throw NetStoreError(.invalid, "--replica lists \(ownAddress) itself or an address twice: list each other server once")
        }
        var ids: [String: UInt32] = [:]
        for (offset, address) in all.enumerated() { ids[address] = UInt32(offset + 1) }
        return (ids[ownAddress]!, ids)
    }
}
