import Logging
import NetStoreCore

extension NetStoreClient {
    /// Asks every server which one is primary (the highest term wins) so that
    /// new connections try it first, and retires the connection to the server
    /// that refused a change: the next request reconnects, to the primary if
    /// one was found, else from the top of the list. Concurrent callers share
    /// one search.
    func locatePrimary(refusedBy connection: Connection) async {
        retire(connection)
        let task: Task<Void, Never>? = state.withLock { state in
            if state.closed { return nil }
            if let running = state.locating { return running }
            let task = Task { await self.probeForPrimary() }
            state.locating = task
            return task
        }
        await task?.value
    }

    private func probeForPrimary() async {
        let probes = await ClusterStatus.probe(
            configuration.servers, token: token, timeout: min(configuration.connectTimeout, .seconds(1)),
            group: configuration.eventLoopGroup, logger: logger)
        var primary: (server: ServerAddress, term: UInt64)?
        for probe in probes {
            guard case .success(let status) = probe.result, status.role == "primary" else { continue }
            if primary == nil || status.term > primary!.term { primary = (probe.server, status.term) }
        }
        state.withLock { state in
            state.locating = nil
            state.preferred = primary?.server
        }
        if let primary {
            logger.info("found the primary", metadata: ["server": "\(primary.server)", "term": "\(primary.term)"])
        } else {
            let answers = probes.map { probe in
                switch probe.result {
                case .success(let status): "\(probe.server): \(status.role)"
                case .failure(let error): "\(probe.server): \(error.message)"
                }
            }
            logger.info("no server says it is the primary", metadata: ["answers": "\(answers.joined(separator: "; "))"])
        }
    }

    /// Stops handing out `connection` for new requests and closes it once the
    /// requests in flight on it are answered: closing it at once would turn
    /// their replies into lost connections, and a mutation's into an unknown outcome.
    func retire(_ connection: Connection) {
        let retired = state.withLock { state -> Bool in
            guard state.link?.connection === connection else { return false }
            state.link = nil
            return true
        }
        guard retired else { return }
        Task {
            let deadline = ContinuousClock.now + .seconds(60)
            while connection.pendingCount > 0, connection.isActive, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            await connection.close()
        }
    }
}

/// The retries of one request that needs a server, or the primary: one at
/// once, then more with backoff until the wait runs out.
struct PrimaryRetry {
    let wait: Duration
    let start = ContinuousClock.now
    private var attempts = 0

    init(wait: Duration) {
        self.wait = wait
    }

    /// Returns when the request may be sent again; throws when the wait is
    /// over: the error itself without a wait, else `.io` saying how long it waited.
    mutating func again(after error: NetStoreError, servers: [ServerAddress], logger: Logger) async throws(NetStoreError) {
        attempts += 1
        if attempts == 1 { return }
        let elapsed = ContinuousClock.now - start
        guard wait > .zero else { throw error }
        guard elapsed < wait else { throw expired(error, servers: servers) }
        if attempts == 2 {
            logger.notice("waiting for the primary", metadata: ["error": "\(error.message)", "wait": "\(wait)"])
        }
        // 100 ms, doubling up to a second, never past the deadline.
        let backoff = min(Duration.milliseconds(100) * (1 << min(attempts - 2, 4)), .seconds(1))
        do {
            try await Task.sleep(for: min(backoff, wait - elapsed))
        } catch {
            throw NetStoreError(.io, "cancelled while waiting for the primary")
        }
    }

    private func expired(_ error: NetStoreError, servers: [ServerAddress]) -> NetStoreError {
        let seconds = wait.components.seconds
        if error.code == .notPrimary {
            return NetStoreError(
                .io, "no primary took the change within \(seconds) s (\(ServerAddress.formatList(servers))): "
                    + "the backups refuse changes; restart the primary or promote a backup with `netstore promote`")
        }
        return NetStoreError(.io, "\(error.message) (still after waiting \(seconds) s)")
    }
}
