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
            let hammer = connectionHammer(port: server.port)
            #expect(try await waitUntil { hammer.rounds > 20 })
            await server.close()
            hammer.stop()
        }
    }
}

/// A thread opening and at once closing TCP connections to `port` until
/// stopped; its rounds are the connections made.
func connectionHammer(port: Int) -> RepeatingThreads {
    RepeatingThreads(threads: 1) {
        guard let fd = try? connectLoopback(port: port, timeoutSeconds: 1) else { return false }
        close(fd)
        return true
    }
}
