import Foundation
import Synchronization

/// Threads each running `body` over and over until stopped, as other
/// programs would (walking a tree, connecting to a port) while a test does
/// its work; `body` says whether a round counts (a connection made, say).
public final class RepeatingThreads: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let count = Atomic<Int>(0)
    private let group = DispatchGroup()

    public init(threads: Int, _ body: @escaping @Sendable () -> Bool) {
        // Threads of their own: blocking rounds on the shared dispatch
        // threads would starve the test's own async work on a small machine.
        for _ in 0..<threads {
            group.enter()
            Thread { [self] in
                while !stopped.load(ordering: .relaxed) {
                    if body() { count.add(1, ordering: .relaxed) }
                }
                group.leave()
            }.start()
        }
    }

    /// Rounds counted so far.
    public var rounds: Int { count.load(ordering: .relaxed) }

    /// Stops the threads (again: no-op), waits for them, and returns the rounds counted.
    @discardableResult
    public func stop() -> Int {
        stopped.store(true, ordering: .relaxed)
        group.wait()
        return rounds
    }
}
