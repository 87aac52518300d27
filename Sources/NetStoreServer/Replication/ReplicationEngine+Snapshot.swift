import Logging
import NetStoreAuth
import NetStoreCore
import NetStoreReplication
import NetStoreStorage

// Snapshots and log compaction (docs/replication.md, "Snapshots"). These run on
// the engine's storage thread, in order with the other actions.
extension ReplicationEngine {
    /// `.sendSnapshot`: every earlier `.apply` has run, so the store is at the
    /// header's position now; a read transaction pins that state while the
    /// transport writes and streams it, and applying goes on meanwhile.
    func sendSnapshot(to peer: ReplicaID, _ header: SnapshotHeader) throws {
        guard let transport else { return }
        let snapshot = try store.openSnapshot()
        guard snapshot.appliedIndex == header.position.index.rawValue, snapshot.appliedTerm == header.position.term.rawValue else {
            // Not expected: the replica asks for the applied position. Its timeout asks again.
            logger.error("the store is not at the snapshot's position", metadata: [
                "position": "\(header.position)", "store": "\(snapshot.appliedIndex)@t\(snapshot.appliedTerm)"])
            snapshot.close()
            return
        }
        transport.sendSnapshot(snapshot, header: header, to: peer)
    }

    /// `.installSnapshot`: the body was staged and checked before the message
    /// reached the replica; installing it is one store transaction. If that fails
    /// the replica is restored from the disk (as a restart would), so it is not left
    /// waiting for an install that will not come; the primary sends another.
    func installSnapshot(_ header: SnapshotHeader, from primary: ReplicaID, _ m: inout Machine, followUps: inout ArraySlice<ReplicaEvent>) {
        do {
            guard let url = snapshots.stagedFile(for: header.position) else {
                throw NetStoreError(.tryAgain, "the snapshot's body is no longer staged")
            }
            try store.installSnapshot(at: url, now: AccountService.wallClock())
            snapshots.discard()
            m.tokenAt = [:]
            followUps.append(.snapshotInstalled(header))
            logger.notice("snapshot installed", metadata: ["position": "\(header.position)", "from": "\(primary)"])
        } catch {
            logger.error("cannot install the snapshot; waiting for another", metadata: [
                "position": "\(header.position)", "error": "\(error)"])
            snapshots.discard()
            do {
                m.replica = try Self.restore(id: id, configuration: configuration, store: store, logger: logger)
            } catch {
                m.broken = NetStoreError(.io, "the server's store failed (\(error)): restart it once fixed")
            }
        }
    }

    /// Keeps the last `retainedLogEntries` applied entries; drops older ones once
    /// a tenth more have piled up (so compaction is an occasional transaction).
    func compact(applied: LogIndex, _ m: inout Machine, followUps: inout ArraySlice<ReplicaEvent>) throws {
        let start = m.replica.logStart.index.rawValue
        let step = max(1, retainedLogEntries / 10)
        guard applied.rawValue >= start + retainedLogEntries + step else { return }
        let through = applied.rawValue - retainedLogEntries
        try store.compactLog(through: through)
        followUps.append(.compacted(through: LogIndex(through)))
        logger.debug("log compacted", metadata: ["through": "\(through)"])
    }
}
