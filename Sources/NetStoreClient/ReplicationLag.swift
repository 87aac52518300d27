import NetStoreCore

/// How far each server is behind the primary, in log entries, from the
/// STATUS replies of one health probe.
public struct ReplicationLag: Sendable, Hashable {
    /// Entries in the primary's log that this server's log lacks: what it
    /// would be without if the primary were lost now.
    public var behindLog: UInt64
    /// Entries the primary knows committed that this server has not applied
    /// yet. A backup holds committed entries while new ones stream in and
    /// applies them together, so under load this is often above 0 while
    /// `behindLog` is 0.
    public var behindCommit: UInt64

    /// Its log holds everything the primary's does.
    public var inSync: Bool { behindLog == 0 }

    /// The primary among the reachable servers: the one saying so in the
    /// highest term (an old primary that has not heard of a promotion yet
    /// still says "primary", in an older term).
    public static func primary(among statuses: [ServerStatus]) -> ServerStatus? {
        statuses.filter { $0.role == "primary" }.max { ($0.term, $0.lastIndex) < ($1.term, $1.lastIndex) }
    }

    public init(of server: ServerStatus, primary: ServerStatus) {
        behindLog = primary.lastIndex > server.lastIndex ? primary.lastIndex - server.lastIndex : 0
        behindCommit = primary.commitIndex > server.appliedIndex ? primary.commitIndex - server.appliedIndex : 0
    }

    public var description: String {
        let toApply = behindCommit == 0 ? nil : "\(behindCommit) committed to apply"
        guard !inSync else { return ["in sync", toApply].compactMap { $0 }.joined(separator: ", ") }
        let entries = behindLog == 1 ? "1 entry" : "\(behindLog) entries"
        return ["\(entries) behind", toApply].compactMap { $0 }.joined(separator: ", ")
    }
}
