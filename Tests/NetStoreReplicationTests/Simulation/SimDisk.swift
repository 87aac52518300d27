import NetStoreReplication

/// The toy state machine's content at an index: a running hash of the payloads.
struct SimSnapshot: Hashable {
    var position: LogPosition
    var digest: UInt64
}

/// One replica's disk. The term and vote are written synchronously; log writes and
/// snapshot installs queue until an fsync, and a crash loses what is queued. The
/// state machine's state is stored with every apply (as SQLite would).
struct SimDisk {
    enum Write {
        case log(truncatingFrom: LogIndex?, entries: [LogEntry])
        case snapshot(SnapshotHeader, SimSnapshot)
    }

    var hardState = HardState()
    var logStart = LogPosition.zero
    /// Durable entries after `logStart`.
    var entries: [LogEntry] = []
    var queued: [Write] = []
    var applied = LogIndex.zero
    var digest: UInt64 = SimDisk.emptyDigest

    static let emptyDigest: UInt64 = 0xCBF2_9CE4_8422_2325

    var persistent: PersistentState {
        PersistentState(hardState: hardState, logStart: logStart, entries: entries, applied: applied)
    }

    var lastDurable: LogPosition { entries.last?.position ?? logStart }

    func entry(at index: LogIndex) -> LogEntry? {
        guard index > logStart.index, index <= lastDurable.index else { return nil }
        return entries[Int(index.rawValue - logStart.index.rawValue - 1)]
    }

    static func mix(_ digest: UInt64, _ entry: LogEntry) -> UInt64 {
        var h = digest
        for byte in entry.payload {  // FNV-1a over the payload; term-start entries change nothing
            h = (h ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return h
    }

    mutating func truncate(from index: LogIndex) {
        entries.removeAll { $0.index >= index }
    }

    /// Drops durable entries up to `index`, which the state holds.
    mutating func compact(through index: LogIndex) {
        guard index > logStart.index, let entry = entry(at: index) else { return }
        entries.removeAll { $0.index <= index }
        logStart = entry.position
    }

    /// As the replica does: keep the entries after the snapshot only if they follow it.
    mutating func install(_ snapshot: SimSnapshot) {
        if let entry = entry(at: snapshot.position.index), entry.term == snapshot.position.term {
            entries.removeAll { $0.index <= snapshot.position.index }
        } else {
            entries = []
        }
        logStart = snapshot.position
        applied = snapshot.position.index
        digest = snapshot.digest
    }
}
