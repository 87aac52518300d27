/// What the primary knows of one backup, read off its flow-control record
/// (`Progress`) for monitoring: how far the backup's durable log matches the primary's.
public struct BackupProgress: Sendable, Hashable {
    public var id: ReplicaID
    /// The backup's log matches the primary's and is durable up to here: what commits count.
    public var match: LogIndex
    /// The next entry the primary will send it.
    public var next: LogIndex
}

extension Replica {
    /// The primary's record of each backup, by id; empty unless this replica is the
    /// primary (only the primary tracks backups).
    public var backupProgress: [BackupProgress] {
        guard role == .primary else { return [] }
        return progress.keys.sorted().map { id in
            BackupProgress(id: id, match: progress[id]!.match, next: progress[id]!.next)
        }
    }
}
