import NetStoreCore

#if canImport(Glibc)
import Glibc
#endif

/// Standard error, the controlling terminal, and password prompts, for the
/// command-line programs (netstore, netstore-mount).
public enum Terminal {
    public static func printError(_ line: String) {
        writeAll(2, line + "\n")
    }

    public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    /// Writes `text` whole; a terminal or pipe that fails is left be (there is
    /// nowhere else to report it).
    public static func writeAll(_ descriptor: Int32, _ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Descriptor.writeAll(descriptor, $0) }
    }

    /// Asks for a password on the terminal with echo off.
    public static func readPassword(prompt: String) throws(NetStoreError) -> String {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else {
            throw NetStoreError(.invalid, "no terminal to ask for a password on: use --password-file FILE")
        }
        defer { close(tty) }
        writeAll(tty, prompt)
        var saved = termios()
        let canRestore = tcgetattr(tty, &saved) == 0
        if canRestore {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            silent.c_lflag |= tcflag_t(ECHONL)
            _ = tcsetattr(tty, TCSAFLUSH, &silent)
        }
        defer { if canRestore { _ = tcsetattr(tty, TCSAFLUSH, &saved) } }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(tty, &byte, 1)
            if count < 0, errno == EINTR { continue }
            if count <= 0 || byte == 0x0A { break }
            line.append(byte)
            if line.count > 4 * Limits.maxPasswordLength { break }
        }
        if line.last == 0x0D { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    /// A new password, asked twice.
    public static func readNewPassword(for user: String) throws(NetStoreError) -> String {
        let first = try readPassword(prompt: "New password for \(user): ")
        try NameRules.validatePassword(first)
        let second = try readPassword(prompt: "Repeat the password: ")
        guard first == second else { throw NetStoreError(.invalid, "the passwords do not match: nothing changed") }
        return first
    }

    /// The first line of a file, for --password-file.
    public static func readPasswordFile(_ path: String) throws(NetStoreError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw NetStoreError(.noEntry, "\(path): \(String(cString: strerror(errno)).lowercased())")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 4 * Limits.maxPasswordLength {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        let line = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        var password = Array(line)
        if password.last == 0x0D { password.removeLast() }
        guard !password.isEmpty else { throw NetStoreError(.invalid, "\(path): the password file is empty") }
        return String(decoding: password, as: UTF8.self)
    }
}
