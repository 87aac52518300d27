import NetStoreCore
import NetStoreProtocol

/// The notices waiting to be sent to one watching connection: each at most
/// once, and never more than `limit` of them. Past the limit they all
/// become one `.reset` (the client drops everything), so a connection that
/// reads slowly costs the server a bounded amount of memory.
struct NoticeQueue: Sendable {
    let limit: Int
    private(set) var pending: [ChangeNotice] = []
    private var members: Set<ChangeNotice> = []

    init(limit: Int) {
        precondition(limit >= 1, "a notice queue holds at least one notice")
        self.limit = limit
    }

    var isEmpty: Bool { pending.isEmpty }

    mutating func add(_ notices: some Sequence<ChangeNotice>) {
        for notice in notices { add(notice) }
    }

    mutating func add(_ notice: ChangeNotice) {
        guard !members.contains(notice) else { return }
        switch notice {
        case .reset:
            // Everything before it is covered by it; only an end stays.
            let ended = members.contains(.ended)
            pending = ended ? [.reset, .ended] : [.reset]
            members = Set(pending)
        case .ended:
            append(notice)
        case .node, .entry:
            if members.contains(.reset) { return }
            if pending.count >= limit {
                add(.reset)
            } else {
                append(notice)
            }
        }
    }

    /// Removes and returns the first `count` notices at most (a CHANGES frame's worth).
    mutating func take(_ count: Int = Limits.maxNoticesPerFrame) -> [ChangeNotice] {
        let taken = Array(pending.prefix(count))
        pending.removeFirst(taken.count)
        for notice in taken { members.remove(notice) }
        return taken
    }

    private mutating func append(_ notice: ChangeNotice) {
        pending.append(notice)
        members.insert(notice)
    }
}
