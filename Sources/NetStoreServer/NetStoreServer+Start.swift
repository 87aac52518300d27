import NetStoreCore

extension NetStoreServer {
    /// Runs the server in a task of its own and returns it, with the port the
    /// server listens on, once it listens. `shutdown()` ends the task.
    public func start() async throws -> (serving: Task<Void, any Error>, port: Int) {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let serving = Task {
            defer { continuation.finish() }
            try await run { address in
                continuation.yield(address.port ?? 0)
                continuation.finish()
            }
        }
        var port = 0
        for await value in ports { port = value }
        guard port > 0 else {
            _ = try? await serving.value
            throw NetStoreError(.io, "the server stopped before it listened")
        }
        return (serving, port)
    }
}
