import Logging
import NIOCore
import NIOPosix
import NetStoreCore
import NetStoreProtocol
import NetStoreTLS
import Synchronization

/// A logged-in session with a NetStore cluster: the API the command line, the
/// mount and the web viewer build on.
///
/// Connects to the first reachable server of its list (trying them in order,
/// the last known primary first), authenticates every new connection (AUTH with
/// the session's token, or LOGIN with a password), and reconnects when the
/// connection is lost. A request that is safe to repeat (a read, a block
/// transfer, a ping) is sent again after a reconnect; a namespace mutation whose
/// connection broke after it went out never is, because the server may have
/// applied it: its error is reported instead. A request a backup refused, or one
/// that could not be sent because no server was reachable, was surely not
/// applied: it is sent again once the primary is found, waiting for one up to
/// `Configuration.primaryWait` (see `send`).
public final class NetStoreClient: Sendable {
    /// How each new connection proves who it is.
    public enum Credentials: Sendable, Hashable {
        /// No authentication (enough for PING and STATUS).
        case none
        /// LOGIN for a new token. Reconnects use AUTH with that token and fall
        /// back to LOGIN if it was revoked.
        case password(user: String, password: String)
        /// AUTH with a token saved from an earlier LOGIN.
        case token(String)
    }

    public struct Configuration: Sendable {
        /// Tried in order; must not be empty.
        public var servers: [ServerAddress]
        public var credentials: Credentials
        public var connectTimeout: Duration
        /// How long a request waits for a primary (no server reachable, or a
        /// backup refused it): it retries with backoff, reconnecting and asking
        /// the servers which one is primary, then fails with `.io`. Zero: one
        /// more try at once, then the refusal (`.notPrimary`) or the connection
        /// error is reported, as a command line wants.
        public var primaryWait: Duration
        public var eventLoopGroup: any EventLoopGroup
        public var logger: Logger
        /// With TLS every connection verifies the server's certificate; nil: plain TCP.
        public var tls: ClientTLS?

        public init(
            servers: [ServerAddress],
            credentials: Credentials,
            connectTimeout: Duration = .seconds(5),
            primaryWait: Duration = .zero,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
            logger: Logger = Logger(label: "netstore.client"),
            tls: ClientTLS? = nil
        ) {
            precondition(!servers.isEmpty, "a client needs at least one server")
            precondition(primaryWait >= .zero, "a negative wait for the primary")
            self.tls = tls
            self.servers = servers
            self.credentials = credentials
            self.connectTimeout = connectTimeout
            self.primaryWait = primaryWait
            self.eventLoopGroup = eventLoopGroup
            self.logger = logger
        }
    }

    /// An authenticated connection and the session it carries.
    struct Link: Sendable {
        let connection: Connection
        let session: SessionInfo?
    }

    struct State {
        var link: Link?
        var connecting: Task<Result<Link, NetStoreError>, Never>?
        /// The newest token: the saved one, or the one the last LOGIN returned.
        var token: String?
        /// The server last found to be the primary: new connections try it first.
        var preferred: ServerAddress?
        /// A search for the primary under way, shared by every request that needs it.
        var locating: Task<Void, Never>?
        /// Keeps a WATCH up on the link (`watchChanges`), and whether it is live now.
        var watch: Task<Void, Never>?
        var watchLive = false
        var closed = false
    }

    public let configuration: Configuration
    let logger: Logger
    let state: Mutex<State>
    /// Block reads spread over every server; nil with a single server (its link serves them).
    let blockReaders: BlockReaders?

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        self.logger = configuration.logger
        blockReaders = configuration.servers.count > 1
            ? BlockReaders(
                servers: configuration.servers, connectTimeout: min(configuration.connectTimeout, .seconds(2)),
                group: configuration.eventLoopGroup, tls: configuration.tls, logger: configuration.logger)
            : nil
        var initial = State()
        if case .token(let token) = configuration.credentials { initial.token = token }
        self.state = Mutex(initial)
    }

    public convenience init(servers: [ServerAddress], credentials: Credentials, logger: Logger? = nil, tls: ClientTLS? = nil) {
        var configuration = Configuration(servers: servers, credentials: credentials, tls: tls)
        if let logger { configuration.logger = logger }
        self.init(configuration)
    }

    /// The current session (nil before the first connection, or without credentials).
    public var session: SessionInfo? { state.withLock { $0.link?.session } }

    /// The server currently connected to.
    public var currentServer: ServerAddress? { state.withLock { $0.link?.connection.address } }

    /// Connects and authenticates now (otherwise the first request does) and
    /// returns the session: the user, their root directory and the token.
    @discardableResult
    public func connect() async throws(NetStoreError) -> SessionInfo? {
        try await link().session
    }

    /// The session, connecting first if needed; fails when there are no credentials.
    public func requireSession() async throws(NetStoreError) -> SessionInfo {
        guard let session = try await link().session else {
            throw NetStoreError(.notAuthenticated, "not logged in")
        }
        return session
    }

    /// Sends one request, reconnecting first if the connection was lost.
    ///
    /// Idempotent requests are sent again on a new connection if the connection
    /// breaks while they are in flight. A request surely not applied (no server
    /// reachable, the connection gone before it was sent, a backup's refusal) is
    /// sent again once at once, then, within `Configuration.primaryWait`, with
    /// backoff, reconnecting and asking the servers which one is primary; past
    /// that wait it fails with `.io`. A mutation lost in flight is never sent
    /// again: its outcome is unknown.
    public func send(_ request: Request) async throws(NetStoreError) -> Response {
        var retry = PrimaryRetry(wait: configuration.primaryWait)
        while true {
            let current: Link
            do {
                current = try await link()
            } catch where error.code == .io || error.code == .timedOut {
                // No server reachable: nothing was sent. Every server was just tried: without a wait, that is all.
                guard configuration.primaryWait > .zero else { throw error }
                try await retry.again(after: error, servers: configuration.servers, logger: logger)
                continue
            }
            switch await current.connection.exchange(request) {
            case .reply(.failure(let error)) where error.code == .notPrimary && configuration.servers.count > 1:
                // A backup refused the request without applying it: find the primary and ask it.
                logger.info("a backup refused a change; looking for the primary", metadata: ["server": "\(current.connection.address)"])
                await locatePrimary(refusedBy: current.connection)
                try await retry.again(after: error, servers: configuration.servers, logger: logger)
            case .reply(let result):
                return try result.get()
            case .unsent(let error):
                await drop(current.connection)
                try await retry.again(after: error, servers: configuration.servers, logger: logger)
            case .lost(let error):
                await drop(current.connection)
                guard request.isIdempotent else { throw error }
                logger.info("retrying after a lost connection", metadata: ["error": "\(error.message)"])
                try await retry.again(after: error, servers: configuration.servers, logger: logger)
            }
        }
    }

    /// Closes the connection; later requests fail.
    public func close() async {
        let (link, connecting, locating, watch) = state.withLock { state in
            state.closed = true
            defer { state.link = nil; state.connecting = nil; state.locating = nil; state.watch = nil; state.watchLive = false }
            return (state.link, state.connecting, state.locating, state.watch)
        }
        watch?.cancel()
        // A connection attempt under way sees `closed` when it ends and closes its own connection.
        connecting?.cancel()
        locating?.cancel()
        await link?.connection.close()
        await blockReaders?.close()
    }

    /// The session's token once there is one (a saved one, or the last LOGIN's).
    var token: String? { state.withLock { $0.token } }

    // MARK: - Connecting

    private enum Next {
        case ready(Link)
        case wait(Task<Result<Link, NetStoreError>, Never>)
        case closed
    }

    /// The live link, or a new one. Concurrent callers share one connection attempt.
    func link() async throws(NetStoreError) -> Link {
        let next: Next = state.withLock { state in
            if state.closed { return .closed }
            if let link = state.link, link.connection.isActive { return .ready(link) }
            if let connecting = state.connecting { return .wait(connecting) }
            if let stale = state.link {
                // Failed already; closing it releases its socket.
                state.link = nil
                Task { await stale.connection.close() }
            }
            let task = Task { await self.openLink() }
            state.connecting = task
            return .wait(task)
        }
        switch next {
        case .ready(let link): return link
        case .closed: throw NetStoreError(.badHandle, "the client was closed")
        case .wait(let task): return try await task.value.get()
        }
    }

    private func openLink() async -> Result<Link, NetStoreError> {
        let result = await connectAndAuthenticate()
        let stale: Connection? = state.withLock { state in
            state.connecting = nil
            guard case .success(let link) = result else { return nil }
            if state.closed { return link.connection }
            state.link = link
            if let token = link.session?.token, !token.isEmpty { state.token = token }
            return nil
        }
        if let stale {
            await stale.close()
            return .failure(NetStoreError(.badHandle, "the client was closed"))
        }
        return result
    }

    private func connectAndAuthenticate() async -> Result<Link, NetStoreError> {
        let servers = configuration.servers
        // A TLS failure says more than "cannot reach": it is reported if no server answers.
        var tlsFailure: NetStoreError?
        let preferred = state.withLock { $0.preferred }
        // The known primary first, then the list in order.
        let order = preferred.map { first in [first] + servers.filter { $0 != first } } ?? servers
        for server in order {
            if Task.isCancelled { break }
            let connection: Connection
            do {
                connection = try await Connection.connect(
                    to: server, timeout: configuration.connectTimeout,
                    group: configuration.eventLoopGroup, tls: configuration.tls, logger: logger)
            } catch {
                if error.message.contains("TLS") { tlsFailure = error }
                logger.debug("server unreachable", metadata: ["server": "\(server)", "error": "\(error.message)"])
                continue
            }
            do {
                let session = try await authenticate(connection)
                logger.debug("session established", metadata: ["server": "\(server)"])
                return .success(Link(connection: connection, session: session))
            } catch {
                await connection.close()
                // A connection lost during authentication: the next server may do better.
                if error.code == .io {
                    if error.message.contains("TLS") { tlsFailure = error }
                    continue
                }
                return .failure(error)
            }
        }
        let list = ServerAddress.formatList(servers)
        if let tlsFailure { return .failure(tlsFailure) }
        return .failure(NetStoreError(.io, "cannot reach any server (\(list)): is netstore-server running?"))
    }

    private func authenticate(_ connection: Connection) async throws(NetStoreError) -> SessionInfo? {
        let token = state.withLock { $0.token }
        if let token {
            do throws(NetStoreError) {
                let response = try await connection.send(.auth(token: token))
                guard case .session(var session) = response else { throw unexpected(response, to: .auth) }
                // AUTH's reply leaves the token out: the client already holds it.
                if session.token.isEmpty { session.token = token }
                return session
            } catch where error.code == .badToken {
                // A revoked or expired token: a password, if we have one, makes a new session.
                guard case .password = configuration.credentials else { throw error }
            }
        }
        guard case .password(let user, let password) = configuration.credentials else { return nil }
        let response = try await connection.send(.login(user: user, password: password))
        guard case .session(let session) = response else { throw unexpected(response, to: .login) }
        return session
    }

    /// Forgets a connection that failed, so that the next request reconnects.
    func drop(_ connection: Connection) async {
        state.withLock { state in
            if state.link?.connection === connection { state.link = nil }
        }
        await connection.close()
    }

    func unexpected(_ response: Response, to opcode: Opcode) -> NetStoreError {
        NetStoreError(.protocolError, "the server answered \(opcode) with an unexpected \(response.kindName) reply")
    }
}
