/// The primary's record of one backup: what it has made durable, what to send next.
///
/// Like etcd raft's Progress: a backup being probed gets one append at a time
/// until it accepts one; then appends are pipelined up to the byte limit; one
/// behind the retained log gets a snapshot and waits for it.
struct Progress: Sendable {
    enum Mode: Sendable, Hashable {
        case probe
        case replicate
        /// A snapshot at this index is on its way.
        case snapshot(LogIndex)
    }

    struct Inflight: Sendable, Hashable {
        var last: LogIndex
        var bytes: Int
        var sentAt: UInt64
    }

    var mode: Mode = .probe
    /// The next entry to send.
    var next: LogIndex
    /// The backup's log matches ours up to here and is durable: what commits count.
    var match: LogIndex = .zero
    /// In replicate mode: appends sent and not yet confirmed received.
    var inflight: [Inflight] = []
    /// In probe mode: an append is out and unanswered.
    var probeSent = false
    var lastSent: UInt64
    var lastHeard: UInt64

    init(next: LogIndex, now: UInt64) {
        self.next = next
        lastSent = now
        lastHeard = now
    }

    var inflightBytes: Int { inflight.reduce(0) { $0 + $1.bytes } }

    mutating func confirmReceived(through index: LogIndex) {
        inflight.removeAll { $0.last <= index }
    }

    /// Back to probing from the last durable match: what was sent may be lost.
    mutating func restartProbe(at next: LogIndex) {
        mode = .probe
        self.next = max(next, match.next)
        inflight = []
        probeSent = false
    }
}
