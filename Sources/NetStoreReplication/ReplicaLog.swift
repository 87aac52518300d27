/// The replica's view of its log: a start position (what compaction or a snapshot
/// folded into the state) and the entries after it, durable or not yet.
struct ReplicaLog: Sendable {
    private(set) var start: LogPosition
    private(set) var entries: [LogEntry]

    init(start: LogPosition, entries: [LogEntry]) {
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == start.index + (offset + 1), "log entries must follow the start without gaps")
        }
        self.start = start
        self.entries = entries
    }

    var lastIndex: LogIndex { entries.last?.index ?? start.index }
    var last: LogPosition { entries.last?.position ?? start }

    /// The term of the entry at `index`, or nil when it is compacted or beyond the end.
    func term(at index: LogIndex) -> Term? {
        if index == start.index { return start.term }
        guard index > start.index, index <= lastIndex else { return nil }
        return entries[offset(index)].term
    }

    func matches(_ position: LogPosition) -> Bool { term(at: position.index) == position.term }

    func entry(at index: LogIndex) -> LogEntry {
        entries[offset(index)]
    }

    /// Entries from `from` on, at most `maxCount` and about `maxBytes` (at least one).
    func entries(from: LogIndex, maxCount: Int, maxBytes: Int) -> [LogEntry] {
        guard from <= lastIndex else { return [] }
        precondition(from > start.index, "entries before the log start are compacted")
        var result: [LogEntry] = []
        var bytes = 0
        for entry in entries[offset(from)...] {
            if result.count == maxCount || (!result.isEmpty && bytes + entry.byteCount > maxBytes) { break }
            bytes += entry.byteCount
            result.append(entry)
        }
        return result
    }

    func entries(in range: ClosedRange<LogIndex>) -> [LogEntry] {
        Array(entries[offset(range.lowerBound)...offset(range.upperBound)])
    }

    /// The last index at or before `index` whose term is at most `term`: where a
    /// log that has `term` at `index` can first agree with this one.
    func lastIndex(atOrBefore index: LogIndex, withTermAtMost term: Term) -> LogIndex {
        var i = min(index, lastIndex)
        while i > start.index, let t = self.term(at: i), t > term { i = i.previous }
        return i
    }

    mutating func append(_ entry: LogEntry) {
        precondition(entry.index == lastIndex.next)
        entries.append(entry)
    }

    /// Drops every entry from `index` on.
    mutating func truncate(from index: LogIndex) {
        precondition(index > start.index, "cannot truncate compacted entries")
        if index <= lastIndex { entries.removeSubrange(offset(index)...) }
    }

    /// Forgets entries up to `position`, which the state machine now holds. Entries
    /// after it stay only if the log agrees at `position`.
    mutating func restart(at position: LogPosition) {
        if matches(position), position.index >= start.index {
            entries.removeFirst(Int(position.index.rawValue - start.index.rawValue))
        } else {
            entries = []
        }
        start = position
    }

    private func offset(_ index: LogIndex) -> Int {
        precondition(index > start.index && index <= lastIndex, "index \(index) outside the log (\(start.index), \(lastIndex)]")
        return Int(index.rawValue - start.index.rawValue - 1)
    }
}
