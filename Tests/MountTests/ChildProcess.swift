import Foundation
import NetStoreTestSupport

/// A program started in the background (posix_spawn) whose end can be awaited
/// with a deadline, its output going to a file.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let logPath: String
    private(set) var status: Int32?

    init(_ program: String, _ arguments: [String], logPath: String) throws {
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        guard result == 0 else { throw TestFailure("cannot start \(program): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// The exit status (128 + signal when killed) once it has ended, nil while running.
    func poll() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        }
        return status
    }

    /// Waits until it ends or `timeout` passes; kills it then (returns nil: it hung).
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = poll() { return status }
            try? await Task.sleep(for: .milliseconds(50))
        }
        if let status = poll() { return status }
        kill(pid, SIGKILL)
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        return nil
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
