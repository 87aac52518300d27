import Foundation

/// Where the built `netstore-server` and `netstore` executables are.
enum Binaries {
    static let directory: URL = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["NETSTORE_BIN_DIR"], !dir.isEmpty {
            candidates.append(URL(fileURLWithPath: dir))
        }
        // `swift test` runs the test bundle from the build directory itself.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            candidates.append(url)
        }
        candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(".build/debug"))
        for dir in candidates where fm.isExecutableFile(atPath: dir.appendingPathComponent("netstore-server").path) {
            return dir
        }
        fatalError("netstore-server not found (looked in \(candidates.map(\.path))): build the package first or set NETSTORE_BIN_DIR")
    }()

    static var server: URL { directory.appendingPathComponent("netstore-server") }
    static var cli: URL { directory.appendingPathComponent("netstore") }
    static var web: URL { directory.appendingPathComponent("netstore-web") }
}

/// A directory under the system temp directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init(_ label: String = "netstore-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Polls `condition` until it holds or the deadline passes.
func waitUntil(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(20),
    _ condition: () throws -> Bool
) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try condition()
}
