#if canImport(Glibc)
import Glibc
#endif
import NetStoreClient
import NetStoreCore

/// Going to the background without fork(): threads exist by then, so the
/// program starts itself again in the foreground (-f) in a new session, hands
/// it the session token on its standard input, and waits on a pipe until the
/// child says the mount is ready (or why it is not).
enum Daemon {
    /// The child's file descriptor that carries "ready" or an error message.
    static let readyDescriptor: Int32 = 3

    /// Starts the foreground child with `arguments`, sends it `token`, and
    /// returns once it is serving; throws with the child's reason otherwise.
    static func start(arguments: [String], token: String) throws(NetStoreError) {
        var readyPipe: [Int32] = [0, 0]
        var tokenPipe: [Int32] = [0, 0]
        guard pipe(&readyPipe) == 0, pipe(&tokenPipe) == 0 else {
            throw NetStoreError(.io, "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        // Only the child's dup2'd copies may stay open across exec.
        for descriptor in readyPipe + tokenPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, tokenPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, readyPipe[1], readyDescriptor)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID: the child leaves the terminal's session, so ^C there does not reach it.
        posix_spawnattr_setflags(&attributes, 0x80)
        let executable = selfExecutable()
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(tokenPipe[0])
        close(readyPipe[1])
        guard spawned == 0 else {
            close(tokenPipe[1])
            close(readyPipe[0])
            throw NetStoreError(.io, "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        Terminal.writeAll(tokenPipe[1], token + "\n")
        close(tokenPipe[1])
        let reply = readAll(readyPipe[0])
        close(readyPipe[0])
        if reply.hasPrefix("ready") { return }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let reason = reply.isEmpty ? "the mount process ended before the mount was ready" : reply
        throw NetStoreError(.io, reason.trimmingCharacters(in: "\n"))
    }

    /// In the child: tells the waiting parent how the mount went, then detaches
    /// from the terminal's output.
    static func report(_ message: String, descriptor: Int32) {
        Terminal.writeAll(descriptor, message + "\n")
        close(descriptor)
    }

    /// Points standard input, output and error at /dev/null (or the log file).
    static func detach(logFile: String?) {
        let null = open("/dev/null", O_RDWR)
        let log = logFile.map { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) } ?? -1
        if null >= 0 {
            dup2(null, 0)
            dup2(log >= 0 ? log : null, 1)
            dup2(log >= 0 ? log : null, 2)
            if null > 2 { close(null) }
        }
        if log > 2 { close(log) }
    }

    static func readLine(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count < 4096 {
            let count = read(descriptor, &byte, 1)
            if count < 0, errno == EINTR { continue }
            if count <= 0 || byte == 0x0A { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func readAll(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[0..<count]
            if bytes.contains(0x0A) { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func selfExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}
