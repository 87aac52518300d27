import Foundation
import NetStoreCore

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

    public init(
        host: String = "127.0.0.1",
        port: Int = 7070,
        dataDirectory: URL,
        adminPasswordFile: URL? = nil,
        maxRequestsInFlightPerConnection: Int = 16,
        garbageGraceSeconds: Int64 = 3600,
        garbageIntervalSeconds: Int64 = 600,
        storageThreads: Int = 8,
        tokenLifetimeSeconds: Int64 = 30 * 24 * 3600
    ) {
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
