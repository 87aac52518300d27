import NetStoreTestSupport
import Foundation

/// Runs the real `netstore` command line with its own config directory and no
/// server list from the environment.
struct CLI {
    /// Given as `--server`; nil leaves the choice to the command (saved login, config file).
    let server: String?
    let configDirectory: URL

    typealias Result = CommandResult

    init(server: String?, configDirectory: URL) {
        self.server = server
        self.configDirectory = configDirectory
    }

    @discardableResult
    func run(_ arguments: String..., stdin: URL? = nil) throws -> Result {
        try run(arguments, stdin: stdin)
    }

    func run(_ arguments: [String], stdin: URL? = nil) throws -> Result {
        try runCommand(
            Binaries.cli, arguments + (server.map { ["--server", $0] } ?? []),
            environment: ["XDG_CONFIG_HOME": configDirectory.path, "NETSTORE_SERVERS": nil], stdin: stdin)
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
