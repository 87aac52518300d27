import Logging
import NetStoreCore
import NetStoreProtocol

extension NetStoreClient {
    /// Keeps a WATCH up on this client's connection, on the primary, and hands
    /// every batch of change notices to `handler` (on a network thread: it
    /// must not block). While the watch is live (`isWatchLive`), a change any
    /// other connection makes to the account's files reaches `handler` about
    /// one round trip after it is applied; this client's own changes (made on
    /// the same connection) do not.
    ///
    /// Whenever the watch ends (connection lost, primary stepped down) the
    /// handler gets `.reset` (changes may be missed until it is back) and
    /// `isWatchLive` is false; the watch is set up again, on the new primary
    /// after a failover, and the handler gets another `.reset` (changes made
    /// meanwhile were not told) before `isWatchLive` turns true. Call once.
    public func watchChanges(_ handler: @escaping @Sendable ([ChangeNotice]) -> Void) {
        let task = Task { await self.keepWatching(handler) }
        let started = state.withLock { state -> Bool in
            guard !state.closed, state.watch == nil else { return false }
            state.watch = task
            return true
        }
        if !started { task.cancel() }
    }

    /// True while a WATCH is accepted on a live connection to the primary.
    public var isWatchLive: Bool { state.withLock { $0.watchLive } }

    private func keepWatching(_ handler: @escaping @Sendable ([ChangeNotice]) -> Void) async {
        var failures = 0
        while !Task.isCancelled {
            let connection: Connection
            do {
                connection = try await link().connection
            } catch {
                if !(await pause(after: &failures)) { return }
                continue
            }
            let (ended, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            connection.onNotices { notices in
                // `.ended`: the server is no longer primary; what it says after is not worth hearing.
                if notices.contains(.ended) {
                    signal.yield()
                } else {
                    handler(notices)
                }
            }
            do throws(NetStoreError) {
                guard case .empty = try await connection.send(.watch) else {
                    throw NetStoreError(.protocolError, "the server answered WATCH with an unexpected reply")
                }
            } catch {
                connection.onNotices(nil)
                if error.message.contains("unknown opcode") {
                    // An older server closes the connection on WATCH: asking again would only break it again.
                    logger.notice("the server does not know WATCH (an older version): no change notices", metadata: ["server": "\(connection.address)"])
                    return
                }
                logger.debug("no watch on this server", metadata: ["server": "\(connection.address)", "error": "\(error.message)"])
                // A backup refused: the next connection goes to the primary.
                if error.code == .notPrimary { await locatePrimary(refusedBy: connection) }
                if !(await pause(after: &failures)) { return }
                continue
            }
            failures = 0
            // Changes made while no watch was up were not told: drop everything first.
            handler([.reset])
            setWatchLive(true)
            logger.info("watching for changes", metadata: ["server": "\(connection.address)"])
            connection.whenClosed { signal.yield() }
            for await _ in ended { break }
            setWatchLive(false)
            connection.onNotices(nil)
            handler([.reset])
            if Task.isCancelled { return }
            logger.info("the watch for changes ended; setting it up again", metadata: ["server": "\(connection.address)"])
            // A server that stepped down keeps the connection; retire it so the next one finds the primary.
            if connection.isActive { await locatePrimary(refusedBy: connection) }
        }
    }

    private func setWatchLive(_ live: Bool) {
        state.withLock { state in state.watchLive = live && !state.closed }
    }

    /// Backs off after the `failures`th failure in a row (100 ms doubling to 2 s); false once cancelled.
    private func pause(after failures: inout Int) async -> Bool {
        failures += 1
        let delay = min(Duration.milliseconds(100) * (1 << min(failures - 1, 5)), .seconds(2))
        do {
            try await Task.sleep(for: delay)
            return true
        } catch {
            return false
        }
    }
}
