import Foundation

/// One Linux network namespace, driven with iproute2's `ip` (needs root).
public struct NetworkNamespace: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    public init(name: String) { self.name = name }

    public var description: String { name }

    /// iproute2's `ip`; nil when it is not installed.
    public static let ipTool: URL? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
        .map { URL(fileURLWithPath: $0) }

    /// Fails, saying what is missing, unless namespaces can be made here: tests that
    /// need them must fail rather than pass without them.
    public static func requireSupport() throws -> URL {
        guard let ip = ipTool else {
            throw TestFailure("network namespaces need iproute2's `ip` (Scripts/install-deps installs it)")
        }
        guard geteuid() == 0 else {
            throw TestFailure("network namespaces need root (`ip netns add` as uid \(geteuid()))")
        }
        return ip
    }

    /// Runs `ip ARGUMENTS...` and throws with its error output if it fails.
    @discardableResult
    public static func ip(_ arguments: String...) throws -> String {
        let result = try runCommand(try requireSupport(), arguments)
        guard result.succeeded else {
            throw TestFailure("ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout
    }

    public static func add(_ name: String) throws -> NetworkNamespace {
        try ip("netns", "add", name)
        let namespace = NetworkNamespace(name: name)
        try namespace.ip("link", "set", "lo", "up")
        return namespace
    }

    /// `ip -n NAME ARGUMENTS...`: an iproute2 command inside this namespace.
    @discardableResult
    public func ip(_ arguments: String...) throws -> String {
        let result = try runCommand(try Self.requireSupport(), ["-n", name] + arguments)
        guard result.succeeded else {
            throw TestFailure("ip -n \(name) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout
    }

    /// The executable and arguments that run `program` inside this namespace
    /// (`ip netns exec` execs it in place: the process id is the program's own).
    public func command(_ program: URL, _ arguments: [String]) -> (executable: URL, arguments: [String]) {
        (Self.ipTool ?? URL(fileURLWithPath: "/usr/sbin/ip"), ["netns", "exec", name, program.path] + arguments)
    }

    /// Processes still running in the namespace.
    public func pids() -> [pid_t] {
        guard let ip = Self.ipTool, let result = try? runCommand(ip, ["netns", "pids", name]) else { return [] }
        return result.stdout.split(whereSeparator: \.isNewline).compactMap { pid_t($0) }
    }

    /// Kills what still runs in it, then deletes it (its veth ends go with it).
    public func delete() {
        for pid in pids() { kill(pid, SIGKILL) }
        if let ip = Self.ipTool { _ = try? runCommand(ip, ["netns", "del", name]) }
    }

    /// Every namespace there is, by name.
    public static func all() -> [String] {
        guard let ip = ipTool, let result = try? runCommand(ip, ["netns", "list"]) else { return [] }
        // Lines read "NAME" or "NAME (id: N)".
        return result.stdout.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.map(String.init) }
    }
}
