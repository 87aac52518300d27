import Foundation
import Synchronization

/// A real `netstore-server` process on 127.0.0.1, with its own data directory.
final class ServerProcess: @unchecked Sendable {
    let dataDirectory: URL
    let adminPasswordFile: URL
    let extraArguments: [String]
    private(set) var port: Int = 0
    private var process: Process?
    private let log = LogBuffer()

    static let adminPassword = "admin-secret-pw"

    /// Starts a server on a free port and waits until it listens.
    init(directory: TemporaryDirectory, extraArguments: [String] = []) async throws {
        dataDirectory = directory.path("data")
        adminPasswordFile = directory.path("admin-password.txt")
        self.extraArguments = extraArguments
        try Self.adminPassword.write(to: adminPasswordFile, atomically: true, encoding: .utf8)
        try await start(port: 0)
    }

    var address: String { "127.0.0.1:\(port)" }
    var output: String { log.withLock { $0 } }
    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the server (again); port 0 picks a free one, read back from the log.
    func start(port requested: Int? = nil) async throws {
        let process = Process()
        process.executableURL = Binaries.server
        process.arguments = [
            "--listen", "127.0.0.1:\(requested ?? port)",
            "--data", dataDirectory.path,
            "--admin-password-file", adminPasswordFile.path,
        ] + extraArguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let log = self.log
        log.withLock { $0 += "--- start\n" }
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            log.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
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
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func restart() async throws {
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
final class LogBuffer: Sendable {
    private let text = Mutex("")
    func withLock<T>(_ body: (inout String) -> T) -> T { text.withLock { body(&$0) } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
