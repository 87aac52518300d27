import Foundation

/// A thread of its own that runs a pass each time it is woken, until stopped.
/// Waking it is a lock and a signal: no hop through the task pool and then the
/// storage threads for every pass, which on a small machine costs more than a
/// short pass itself.
final class WakeableThread: @unchecked Sendable {
    private let condition = NSCondition()
    // Both guarded by `condition`.
    private var woken = false
    private var stopped = false

    /// Asks for a pass; wakes made while a pass runs give one more pass after it.
    func wake() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the pass under way (if any) is done.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Runs `pass` on a new thread whenever woken; returns once stopped.
    func run(name: String, _ pass: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                while self.waitForWake() { pass() }
                done.resume()
            }
            thread.name = name
            thread.start()
        }
    }

    /// False once stopped.
    private func waitForWake() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !woken && !stopped { condition.wait() }
        if stopped { return false }
        woken = false
        return true
    }
}
