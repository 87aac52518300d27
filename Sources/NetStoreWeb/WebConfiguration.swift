import Foundation
import Logging
import NIOSSL
import NetStoreClient
import NetStoreTLS

/// Everything `buildApplication` needs: where to listen and which cluster to use.
public struct WebConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The cluster's servers, tried in order (as the command line's `--server`).
    public var servers: [ServerAddress]
    /// Set when browsers reach this server over HTTPS (through a TLS proxy):
    /// cookies then carry `Secure`.
    public var secureCookies: Bool
    /// A session unused this long ends (and its cluster token is revoked).
    public var sessionIdleTimeout: Duration
    public var maxSessions: Int
    /// Entries per page of a directory listing.
    public var pageSize: Int
    /// Directories with at most this many entries are read whole and can be
    /// sorted; larger ones are shown page by page in the store's order.
    public var sortableLimit: Int
    /// Failed logins one browser address may make within `loginFailureWindow`
    /// before its logins are refused (429) until the window has passed.
    public var loginFailuresPerAddress: Int
    public var loginFailureWindow: Duration
    /// Addresses of reverse proxies whose X-Forwarded-For header names the
    /// browser; from anyone else that header is ignored.
    public var trustedProxies: Set<String>
    /// Nanoseconds since the Unix epoch; tests pass their own clock.
    public var clock: @Sendable () -> Int64
    public var logger: Logger
    /// With TLS the connections to the cluster verify the servers against its CA; nil: plain TCP.
    public var clusterTLS: ClientTLS?
    /// Set to serve HTTPS itself (see `HTTPSFiles`); nil: plain HTTP.
    public var https: TLSConfiguration?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, servers: [ServerAddress],
        secureCookies: Bool = false, sessionIdleTimeout: Duration = .seconds(2 * 3600),
        maxSessions: Int = 10_000, pageSize: Int = 200, sortableLimit: Int = 10_000,
        loginFailuresPerAddress: Int = 10, loginFailureWindow: Duration = .seconds(15 * 60),
        trustedProxies: Set<String> = [],
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1e9) },
        logger: Logger = Logger(label: "netstore.web"),
        clusterTLS: ClientTLS? = nil, https: TLSConfiguration? = nil
    ) {
        self.clusterTLS = clusterTLS
        self.https = https
        precondition(!servers.isEmpty, "the web viewer needs at least one server")
        precondition(pageSize > 0 && sortableLimit >= pageSize)
        precondition(loginFailuresPerAddress > 0 && loginFailureWindow >= .seconds(1))
        self.host = host
        self.port = port
        self.servers = servers
        self.secureCookies = secureCookies
        self.sessionIdleTimeout = sessionIdleTimeout
        self.maxSessions = maxSessions
        self.pageSize = pageSize
        self.sortableLimit = sortableLimit
        self.loginFailuresPerAddress = loginFailuresPerAddress
        self.loginFailureWindow = loginFailureWindow
        self.trustedProxies = trustedProxies
        self.clock = clock
        self.logger = logger
    }
}
