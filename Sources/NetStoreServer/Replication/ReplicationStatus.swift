import NetStoreReplication

/// What STATUS reports of replication, published by the engine after each pass.
public struct ReplicationStatus: Sendable, Hashable {
    public var role: ReplicaRole
    public var term: UInt64
    public var lastIndex: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    /// On the primary, what it knows of each backup (empty on a backup or candidate).
    public var backups: [BackupProgress]

    init(_ replica: Replica) {
        role = replica.role
        term = replica.term.rawValue
        lastIndex = replica.lastPosition.index.rawValue
        commitIndex = replica.commitIndex.rawValue
        appliedIndex = replica.appliedIndex.rawValue
        backups = replica.backupProgress
    }

    /// How many entries of this server's log `backup` has yet to make durable.
    public func lag(of backup: BackupProgress) -> UInt64 {
        lastIndex > backup.match.rawValue ? lastIndex - backup.match.rawValue : 0
    }

    public var isPrimary: Bool { role == .primary }
    /// "primary", "backup" or "candidate".
    public var roleName: String {
        switch role {
        case .primary: "primary"
        case .backup: "backup"
        case .candidate: "candidate"
        }
    }
}
