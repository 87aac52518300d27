import Foundation
import NetStoreClient
import NetStoreCore
import Testing

/// A directory of many entries, made through the client library (in parallel:
/// through a mount the kernel makes creates in one directory one at a time),
/// then listed with `ls -l` through a real mount of the same server, which
/// readdirplus answers page by page with no request per entry.
@Suite("A big directory through a real mount", .serialized)
struct BigDirectoryTests {
    /// NETSTORE_BIG_DIRECTORY_ENTRIES overrides the size (100000 by hand).
    static let entries = ProcessInfo.processInfo.environment["NETSTORE_BIG_DIRECTORY_ENTRIES"].flatMap { Int($0) } ?? 20_000

    @Test("entries made in parallel, ls -l through the mount lists every one with its owner and size")
    func listBigDirectory() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let root = try await h.client.requireSession().user.rootNode
        let big = try await h.client.mkdir(parent: root, name: "big", mode: 0o755, uid: 0, gid: 0)
        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            let workers = 64
            for worker in 0..<workers {
                group.addTask { [client = h.client] in
                    for index in stride(from: worker, to: Self.entries, by: workers) {
                        _ = try await client.create(parent: big.id, name: "entry-\(index)", mode: 0o644, uid: 0, gid: 0)
                    }
                }
            }
            try await group.waitForAll()
        }
        let created = clock.now - started

        let mount = try await RealMount(harness: h)
        defer { mount.unmount() }
        let listed = clock.now
        let (status, output) = try mount.shell("ls -l '\(mount.mountpoint)/big'")
        let listTime = clock.now - listed
        #expect(status == 0)
        let lines = output.split(separator: "\n")
        // "total 0", then one line per entry.
        #expect(lines.count == Self.entries + 1)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("-rw-r--r-- 1 root root 0 ") && $0.contains(" entry-") })
        print("big directory: \(Self.entries) entries created in \(created), ls -l in \(listTime)")
    }
}

/// The real netstore-mount (from the build directory) on a temporary mount
/// point, logged in to the harness's server as its admin.
final class RealMount: @unchecked Sendable {
    let mountpoint: String
    private let process: Process

    init(harness h: VFSHarness) async throws {
        guard FileManager.default.fileExists(atPath: "/dev/fuse") else {
            throw NetStoreError(.notSupported, "MOUNT TESTS CANNOT RUN: /dev/fuse is missing")
        }
        let base = h.directory.appendingPathComponent("mount")
        mountpoint = base.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = Self.binary("netstore-mount")
        process.arguments = [mountpoint, "-f", "--server", "127.0.0.1:\(h.port)", "--user", "admin",
                             "--password-file", h.passwordFile.path]
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = base.appendingPathComponent("config").path
        environment["XDG_CACHE_HOME"] = base.appendingPathComponent("cache").path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while !isMounted, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard isMounted else {
            unmount()
            throw NetStoreError(.io, "MOUNT FAILED: netstore-mount did not mount \(mountpoint)")
        }
    }

    var isMounted: Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { $0.split(separator: " ").count > 4 && $0.split(separator: " ")[4] == mountpoint }
    }

    /// Runs `command` with sh; returns its status and standard output.
    func shell(_ command: String) throws -> (Int32, String) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", command]
        let pipe = Pipe()
        child.standardOutput = pipe
        child.standardError = FileHandle.nullDevice
        try child.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        return (child.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// fusermount3 -u (lazily if busy), then waits for the mount process to end.
    func unmount() {
        for arguments in [["-u", mountpoint], ["-uz", mountpoint]] where isMounted {
            let fusermount = Process()
            fusermount.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
            fusermount.arguments = arguments
            try? fusermount.run()
            fusermount.waitUntilExit()
        }
        if process.isRunning {
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    /// A built executable: NETSTORE_BIN_DIR, else beside the test bundle, else .build/debug.
    static func binary(_ name: String) -> URL {
        var candidates: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["NETSTORE_BIN_DIR"], !dir.isEmpty {
            candidates.append(URL(fileURLWithPath: dir))
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            candidates.append(url)
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug"))
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent(name).path) }
        return (found ?? candidates.last!).appendingPathComponent(name)
    }
}
