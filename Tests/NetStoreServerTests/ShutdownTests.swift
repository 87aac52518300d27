import Foundation
import Synchronization
import NetStoreTestSupport
import Testing

@testable import NetStoreServer

@Suite("Shutting down while clients connect")
struct ShutdownTests {
    @Test("connections arriving while a server shuts down are closed, and the process goes on")
    func connectionsDuringShutdown() async throws {
        // A connection accepted just before the shutdown and served just after it
        // used to stop the process (its channel's writer was dropped unfinished).
        // The window is narrow: several rounds, each with connections arriving throughout.
        for _ in 0..<8 {
            let server = try await WatchServer()
            let hammer = ConnectionHammer(port: server.port)
            hammer.start()
            #expect(try await until { hammer.connections > 20 })
            await server.close()
            hammer.stop()
        }
    }
}

/// Opens and at once closes TCP connections to a port, on a thread of its own, until stopped.
final class ConnectionHammer: Sendable {
    let port: Int
    private let count = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)

    init(port: Int) { self.port = port }

    var connections: Int { count.load(ordering: .relaxed) }

    func start() {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                guard let fd = try? connectLoopback(port: port, timeoutSeconds: 1) else { continue }
                close(fd)
                count.add(1, ordering: .relaxed)
            }
            finished.withLock { $0 = true }
        }
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.withLock({ $0 }) { usleep(1_000) }
    }
}
