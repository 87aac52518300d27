import NIOCore
import Synchronization

/// A listener and the connections it accepted, so that a shutdown can close
/// them all, and a connection accepted during the shutdown is turned away.
final class OpenChannels: Sendable {
    private let state = Mutex(State())

    private struct State {
        var listener: Channel?
        var connections: [ObjectIdentifier: Channel] = [:]
        var shuttingDown = false
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Records the listener; false when a shutdown came first and the caller must close it.
    func setListener(_ channel: Channel) -> Bool {
        state.withLock { state in
            state.listener = channel
            return !state.shuttingDown
        }
    }

    /// Records an accepted connection; false once shutting down (the caller closes it).
    func add(_ channel: Channel) -> Bool {
        state.withLock { state in
            if state.shuttingDown { return false }
            state.connections[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func remove(_ channel: Channel) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks the shutdown; returns what is open, for the caller to close as it sees fit.
    func beginShutdown() -> (listener: Channel?, connections: [Channel]) {
        state.withLock { state in
            state.shuttingDown = true
            return (state.listener, Array(state.connections.values))
        }
    }
}
