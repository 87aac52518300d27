import Logging
import NetStoreClient
import NetStoreCore
import Synchronization

/// The browser sessions of this web server, keyed by their random cookie value.
/// A session ends when idle for `idleTimeout`, when the cluster's token
/// expires, or on logout; its client is closed then.
public final class SessionStore: Sendable {
    private struct Entry {
        var session: WebSession
        var lastSeenNs: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])
    let idleTimeoutNs: Int64
    let maxSessions: Int
    let clock: @Sendable () -> Int64
    let logger: Logger

    init(idleTimeoutNs: Int64, maxSessions: Int, clock: @escaping @Sendable () -> Int64, logger: Logger) {
        self.idleTimeoutNs = idleTimeoutNs
        self.maxSessions = maxSessions
        self.clock = clock
        self.logger = logger
    }

    /// Stores a new session and returns its cookie value.
    func add(_ session: WebSession) throws(WebError) -> String {
        let now = clock()
        let id = Secrets.random()
        let (added, expired): (Bool, [WebSession]) = entries.withLock { entries in
            let stale = entries.filter { !isLive($0.value, now: now) }
            for key in stale.keys { entries.removeValue(forKey: key) }
            let expired = stale.values.map(\.session)
            guard entries.count < maxSessions else { return (false, expired) }
            entries[id] = Entry(session: session, lastSeenNs: now)
            return (true, expired)
        }
        close(expired)
        guard added else {
            throw WebError(.serviceUnavailable, "Too many people are logged in to this web server right now. Try again later.")
        }
        return id
    }

    /// The live session for a cookie value (touching it), or nil.
    func session(for id: String?) -> WebSession? {
        guard let id, !id.isEmpty else { return nil }
        let now = clock()
        let (live, expired): (WebSession?, WebSession?) = entries.withLock { entries in
            guard var entry = entries[id] else { return (nil, nil) }
            guard isLive(entry, now: now) else {
                entries.removeValue(forKey: id)
                return (nil, entry.session)
            }
            entry.lastSeenNs = now
            entries[id] = entry
            return (entry.session, nil)
        }
        if let expired { close([expired]) }
        return live
    }

    /// Forgets a session and returns it (so the caller can revoke its token).
    func remove(_ id: String?) -> WebSession? {
        guard let id else { return nil }
        return entries.withLock { $0.removeValue(forKey: id)?.session }
    }

    var count: Int { entries.withLock { $0.count } }

    private func isLive(_ entry: Entry, now: Int64) -> Bool {
        now - entry.lastSeenNs < idleTimeoutNs && now < entry.session.expiresNs
    }

    private func close(_ sessions: [WebSession]) {
        guard !sessions.isEmpty else { return }
        logger.debug("sessions expired", metadata: ["count": "\(sessions.count)"])
        Task {
            // Revoke the cluster token too: an idle session must not leave a live token behind.
            for session in sessions {
                do { try await session.client.logout() } catch { await session.client.close() }
            }
        }
    }
}

extension SessionStore {
    /// Every live session (for tests and diagnostics).
    var all: [WebSession] { entries.withLock { $0.values.map(\.session) } }
}
