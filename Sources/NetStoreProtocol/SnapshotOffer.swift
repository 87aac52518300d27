import NetStoreReplication

/// A snapshot body the primary is about to stream (docs/replication.md,
/// "Snapshots"): the applied state at `position`, `size` bytes whose SHA-256 is
/// `sha256`. The hash names the body, so a backup that already holds part of
/// it (the connection dropped, or it restarted) is sent only the rest.
public struct SnapshotOffer: Sendable, Hashable {
    public var position: LogPosition
    public var size: UInt64
    public var sha256: [UInt8]

    public init(position: LogPosition, size: UInt64, sha256: [UInt8]) {
        precondition(sha256.count == 32, "a SHA-256 is 32 bytes")
        self.position = position
        self.size = size
        self.sha256 = sha256
    }
}
