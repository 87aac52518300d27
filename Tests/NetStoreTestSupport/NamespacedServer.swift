import Foundation

/// A real `netstore-server` process inside a network namespace (one "host" of a
/// `VirtualNetwork`), started with the arguments its caller builds in full.
public final class NamespacedServer: @unchecked Sendable {
    public let namespace: NetworkNamespace
    /// HOST:PORT it listens on, as the other servers and the clients name it.
    public let address: String
    private var process: Process?
    private let log = LogBuffer()

    public init(namespace: NetworkNamespace, address: String) {
        self.namespace = namespace
        self.address = address
    }

    public var output: String { log.value }
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Starts `netstore-server ARGUMENTS` in the namespace (again, after a kill) and
    /// waits until it says it listens on `address`.
    public func start(arguments: [String], timeout: Duration = .seconds(30)) async throws {
        precondition(!isRunning, "\(address) is running already")
        let (executable, fullArguments) = namespace.command(Binaries.server, arguments)
        let process = Process()
        process.executableURL = executable
        process.arguments = fullArguments
        let log = self.log
        log.withLock { $0 += "--- start\n" }
        try log.launch(process)
        self.process = process
        let marker = "listening on \(address)"
        let ready = try await waitUntil(timeout: timeout) {
            !process.isRunning || log.value.components(separatedBy: "--- start").last?.contains(marker) == true
        }
        guard ready, process.isRunning else {
            throw TestFailure("netstore-server on \(address) in \(namespace) did not start:\n\(output)")
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    public func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill9() }
}
