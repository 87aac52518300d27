import NetStoreCore
import NetStoreProtocol
import Synchronization

/// The requests of one connection that await their replies, keyed by request id.
///
/// Replies may arrive in any order; each completes the request with its id.
/// Once the connection fails, every pending request and every later one fails
/// with the same error, so no caller waits for a reply that cannot come.
final class PendingRequests: Sendable {
    /// How an exchange ended: the server's reply (success or error), the
    /// connection's loss after the request may have gone out, or a connection
    /// that had failed before the request was sent (so it surely was not applied).
    enum Outcome: Sendable {
        case reply(Result<Response, NetStoreError>)
        case lost(NetStoreError)
        case unsent(NetStoreError)
    }

    private struct State {
        var nextID: UInt64 = 1
        var waiting: [UInt64: CheckedContinuation<Outcome, Never>] = [:]
        var failure: NetStoreError?
    }

    private let state = Mutex(State())

    /// The error every request fails with from now on, or nil while the connection is up.
    var failure: NetStoreError? { state.withLock { $0.failure } }

    var count: Int { state.withLock { $0.waiting.count } }

    /// Registers a waiter and returns its request id, or resumes it at once with
    /// the connection's failure and returns nil.
    func register(_ continuation: CheckedContinuation<Outcome, Never>) -> UInt64? {
        let registered: Result<UInt64, NetStoreError> = state.withLock { state in
            if let failure = state.failure { return .failure(failure) }
            let id = state.nextID
            state.nextID += 1
            state.waiting[id] = continuation
            return .success(id)
        }
        switch registered {
        case .success(let id):
            return id
        case .failure(let failure):
            continuation.resume(returning: .unsent(failure))
            return nil
        }
    }

    /// Completes the request a reply answers. Returns false when no request has
    /// that id: the peer broke the protocol.
    func complete(_ frame: ResponseFrame) -> Bool {
        let continuation = state.withLock { $0.waiting.removeValue(forKey: frame.requestID) }
        guard let continuation else { return false }
        continuation.resume(returning: .reply(frame.result))
        return true
    }

    /// Answers one request with an error without sending it (its frame breaks a limit).
    func refuse(_ id: UInt64, with error: NetStoreError) {
        let continuation = state.withLock { $0.waiting.removeValue(forKey: id) }
        continuation?.resume(returning: .reply(.failure(error)))
    }

    /// Fails one request (its frame could not be written).
    func fail(_ id: UInt64, with error: NetStoreError) {
        let continuation = state.withLock { $0.waiting.removeValue(forKey: id) }
        continuation?.resume(returning: .lost(error))
    }

    /// Fails every pending and future request; the first failure recorded wins.
    func failAll(with error: NetStoreError) {
        let (waiting, failure) = state.withLock { state -> ([CheckedContinuation<Outcome, Never>], NetStoreError) in
            if state.failure == nil { state.failure = error }
            let waiting = Array(state.waiting.values)
            state.waiting.removeAll()
            return (waiting, state.failure!)
        }
        for continuation in waiting { continuation.resume(returning: .lost(failure)) }
    }
}
