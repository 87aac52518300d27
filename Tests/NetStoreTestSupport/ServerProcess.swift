import Foundation
import Synchronization

/// A real `netstore-server` process on 127.0.0.1, with its own data directory.
public final class ServerProcess: @unchecked Sendable {
    public let dataDirectory: URL
    public let adminPasswordFile: URL
    public let extraArguments: [String]
    public private(set) var port: Int = 0
    private var process: Process?
    private let log = LogBuffer()

    public static let adminPassword = "admin-secret-pw"

    /// Starts a server (on a free port unless one is given) and waits until it listens.
    public init(directory: TemporaryDirectory, name: String = "data", port: Int = 0, extraArguments: [String] = []) async throws {
        dataDirectory = directory.path(name)
        adminPasswordFile = directory.path("admin-password.txt")
        self.extraArguments = extraArguments
        try Self.adminPassword.write(to: adminPasswordFile, atomically: true, encoding: .utf8)
        try await start(port: port)
    }

    public var address: String { "127.0.0.1:\(port)" }
    public var output: String { log.withLock { $0 } }
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the server (again); port 0 picks a free one, read back from the log.
    public func start(port requested: Int? = nil) async throws {
        let process = Process()
        process.executableURL = Binaries.server
        process.arguments = [
            "--listen", "127.0.0.1:\(requested ?? port)",
            "--data", dataDirectory.path,
            "--admin-password-file", adminPasswordFile.path,
        ] + extraArguments
        let log = self.log
        log.withLock { $0 += "--- start\n" }
        try log.launch(process)
        self.process = process
        let regex = /listening on 127\.0\.0\.1:(\d+)/
        var found: Int?
        let ready = try await waitUntil {
            if !process.isRunning { return true }
            let text = log.withLock { $0 }
            if let match = text.split(separator: "--- start").last?.firstMatch(of: regex) {
                found = Int(match.1)
            }
            return found != nil
        }
        guard ready, let found, process.isRunning else {
            throw TestFailure("netstore-server did not start:\n\(output)")
        }
        port = found
    }

    /// SIGKILL: no chance to flush or clean up.
    public func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends `signal` (SIGSTOP: the server stops answering, with its connections open; SIGCONT: it goes on).
    public func send(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func restart() async throws {
        kill9()
        try await start(port: port)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Output collected from a child process's pipe on another thread.
public final class LogBuffer: Sendable {
    private let text = Mutex("")
    public init() {}
    public var value: String { text.withLock { $0 } }
    public func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
    public func withLock<T>(_ body: (inout String) -> T) -> T { text.withLock { body(&$0) } }

    /// Runs `process` (already given its program and arguments) with its standard
    /// output and error collected here and nothing on its standard input.
    public func launch(_ process: Process) throws {
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        attach(pipe)
        try process.run()
    }

    /// Collects everything `pipe` delivers until its writer closes it.
    public func attach(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { append(data) }
        }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
