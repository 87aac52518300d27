import NetStoreCore
import NetStoreProtocol
import Synchronization

/// One connection's notices on their way out: `ChangeFeed` adds them as
/// mutations are applied (never waiting), the connection's writer takes them
/// a frame at a time. Bounded by its `NoticeQueue`.
public final class NoticeOutbox: Sendable {
    private struct State {
        var queue: NoticeQueue
        var waiter: CheckedContinuation<[ChangeNotice]?, Never>?
        var closed = false
    }

    private let state: Mutex<State>

    public init(limit: Int = ChangeFeed.defaultPendingLimit) {
        state = Mutex(State(queue: NoticeQueue(limit: limit)))
    }

    func add(_ notices: [ChangeNotice]) {
        let handOver = state.withLock { state -> (CheckedContinuation<[ChangeNotice]?, Never>, [ChangeNotice])? in
            guard !state.closed else { return nil }
            state.queue.add(notices)
            guard let waiter = state.waiter, !state.queue.isEmpty else { return nil }
            state.waiter = nil
            return (waiter, state.queue.take())
        }
        if let (waiter, batch) = handOver { waiter.resume(returning: batch) }
    }

    /// The next batch (at most a frame's worth), waiting for one; nil once closed.
    /// One reader at a time.
    public func next() async -> [ChangeNotice]? {
        await withCheckedContinuation { continuation in
            let ready: [ChangeNotice]?? = state.withLock { state in
                if state.closed { return .some(nil) }
                if !state.queue.isEmpty { return .some(state.queue.take()) }
                precondition(state.waiter == nil, "one reader of a notice outbox at a time")
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Ends `next()`: the connection is closing; pending notices are dropped.
    public func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// How many notices wait (for tests and metrics).
    var pendingCount: Int { state.withLock { $0.queue.pending.count } }
}
