import NetStoreClient
import Synchronization

/// A progress line on standard error, redrawn at most ten times a second,
/// and only when standard error is a terminal.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var drewAnything = false
    }

    private let label: String
    private let start = ContinuousClock.now
    private let enabled: Bool
    private let state = Mutex(State())

    init(label: String) {
        self.label = label
        self.enabled = Terminal.standardErrorIsTerminal
    }

    /// The handler to give an upload or download; nil when there is no terminal.
    var handler: ProgressHandler? {
        enabled ? { @Sendable [self] progress in self.update(progress) } : nil
    }

    func update(_ progress: TransferProgress) {
        let now = ContinuousClock.now
        let draw = state.withLock { state -> Bool in
            if !progress.isComplete, let last = state.lastDraw, now - last < .milliseconds(100) { return false }
            state.lastDraw = now
            state.drewAnything = true
            return true
        }
        guard draw else { return }
        Terminal.writeAll(2, "\r\u{1B}[K\(label) \(progress.formatted(elapsed: now - start))")
    }

    /// Ends the line, if one was drawn.
    func finish() {
        if state.withLock({ $0.drewAnything }) { Terminal.writeAll(2, "\n") }
    }
}
