import NetStoreTestSupport
import Crypto
import Foundation
import NetStoreCore

/// A temp directory, a real server in it, and an admin logged in with the real CLI.
final class Fixture: @unchecked Sendable {
    let dir: TemporaryDirectory
    let server: ServerProcess
    let admin: CLI

    init(serverArguments: [String] = []) async throws {
        dir = try TemporaryDirectory()
        server = try await ServerProcess(directory: dir, extraArguments: serverArguments)
        admin = Self.makeCLI(dir: dir, server: server, label: "admin")
        try admin.login("admin", password: ServerProcess.adminPassword, in: dir)
    }

    /// A CLI with a config directory of its own (its own saved session).
    func cli(as label: String) -> CLI {
        Self.makeCLI(dir: dir, server: server, label: label)
    }

    private static func makeCLI(dir: TemporaryDirectory, server: ServerProcess, label: String) -> CLI {
        let config = dir.path("config-\(label)-\(UUID().uuidString.prefix(6))")
        try? FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        return CLI(server: server.address, configDirectory: config)
    }

    /// Adds a user through the admin's CLI and returns a CLI logged in as them.
    func user(_ name: String, password: String? = nil) throws -> CLI {
        let password = password ?? "\(name)-password-1"
        let file = dir.path("new-\(name)")
        try password.write(to: file, atomically: true, encoding: .utf8)
        let added = try admin.run("user", "add", name, "--password-file", file.path)
        guard added.succeeded else { throw TestFailure("user add \(name): \(added.stderr)") }
        let cli = cli(as: name)
        try cli.login(name, password: password, in: dir)
        return cli
    }

    deinit {
        server.kill9()
        dir.remove()
    }
}

/// Writes `size` bytes of seeded pseudo-random data; returns their SHA-256 (hex).
@discardableResult
func writeRandomFile(_ url: URL, size: Int, seed: UInt64) throws -> String {
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    var state = seed | 1
    var hasher = SHA256()
    var remaining = size
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while remaining > 0 {
        let n = min(remaining, chunk.count)
        chunk.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<(n + 7) / 8 where i < words.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                words[i] = state
            }
        }
        let slice = Data(chunk[0..<n])
        hasher.update(data: slice)
        try handle.write(contentsOf: slice)
        remaining -= n
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}

/// The SHA-256 (hex) of a file, read in constant memory.
func sha256(of url: URL) throws -> String {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hasher = SHA256()
    while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
        hasher.update(data: data)
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
