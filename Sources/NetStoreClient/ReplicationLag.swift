import NetStoreCore

/// How far each server is behind the primary, in log entries, from the
/// STATUS replies of one health probe.
public struct ReplicationLag: Sendable, Hashable {
    /// Entries in the primary's log this server has not applied.
    public var behindLog: UInt64
    /// Entries the primary knows committed that this server has not applied.
    public var behindCommit: UInt64

    public var inSync: Bool { behindLog == 0 && behindCommit == 0 }

    /// The primary among the reachable servers: the one saying so in the
    /// highest term (an old primary that has not heard of a promotion yet
    /// still says "primary", in an older term).
    public static func primary(among statuses: [ServerStatus]) -> ServerStatus? {
        statuses.filter { $0.role == "primary" }.max { ($0.term, $0.lastIndex) < ($1.term, $1.lastIndex) }
    }

    public init(of server: ServerStatus, primary: ServerStatus) {
        behindLog = primary.lastIndex > server.appliedIndex ? primary.lastIndex - server.appliedIndex : 0
        behindCommit = primary.commitIndex > server.appliedIndex ? primary.commitIndex - server.appliedIndex : 0
    }

    public var description: String {
        if inSync { return "in sync" }
        let entries = behindLog == 1 ? "1 entry" : "\(behindLog) entries"
        return "\(entries) behind (\(behindCommit) committed)"
    }
}
