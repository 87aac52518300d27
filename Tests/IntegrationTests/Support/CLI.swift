import NetStoreTestSupport
import Foundation

/// Runs the real `netstore` command line with its own config directory and no
/// server list from the environment.
struct CLI {
    /// Given as `--server`; nil leaves the choice to the command (saved login, config file).
    let server: String?
    let configDirectory: URL

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var succeeded: Bool { status == 0 }
    }

    init(server: String?, configDirectory: URL) {
        self.server = server
        self.configDirectory = configDirectory
    }

    @discardableResult
    func run(_ arguments: String..., stdin: URL? = nil) throws -> Result {
        try run(arguments, stdin: stdin)
    }

    func run(_ arguments: [String], stdin: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = arguments + (server.map { ["--server", $0] } ?? [])
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = configDirectory.path
        env.removeValue(forKey: "NETSTORE_SERVERS")
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty child never blocks.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Logs in with a password written to a file, and fails the test if that fails.
    func login(_ user: String, password: String, in dir: TemporaryDirectory) throws {
        let file = dir.path("pw-\(user)-\(UUID().uuidString.prefix(6))")
        try password.write(to: file, atomically: true, encoding: .utf8)
        let result = try run("login", user, "--password-file", file.path)
        guard result.succeeded else {
            throw TestFailure("login \(user) failed (\(result.status)): \(result.stderr)")
        }
    }
}
