import Foundation
import NetStoreTestSupport

/// Another netstore-mount of the same account on the fixture's servers, with
/// a mount point and a cache of its own: the "other machine".
final class SecondMount: @unchecked Sendable {
    let mountpoint: String
    let log = LogBuffer()
    private let process: Process
    private let fixture: MountFixture

    init(of fixture: MountFixture, options: [String] = [], mountpointName: String = "mnt") async throws {
        self.fixture = fixture
        let base = fixture.root.appendingPathComponent("second")
        mountpoint = base.appendingPathComponent(mountpointName).path
        for dir in [mountpointName, "config", "cache"] {
            try FileManager.default.createDirectory(at: base.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        var env = fixture.environment
        env["XDG_CONFIG_HOME"] = base.appendingPathComponent("config").path
        env["XDG_CACHE_HOME"] = base.appendingPathComponent("cache").path
        process = try await fixture.launchMount(at: mountpoint, options: options, environment: env, log: log)
    }

    var isMounted: Bool { MountFixture.isMounted(mountpoint) }

    func path(_ relative: String) -> String { "\(mountpoint)/\(relative)" }

    func unmount() async {
        await fixture.unmount(mountpoint, process: process)
    }
}
