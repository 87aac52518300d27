import Foundation
import NetStoreTestSupport
import Testing

/// Writes through a mount on a primary and two backups.
@Suite("Large writes through a mount on a cluster")
struct ClusterWriteTests {
    /// A file's blocks reach the backups with the commit that needs them. Sent one at
    /// a time, each waiting for a backup's fsync, 1 GiB of them outlasted the commit's
    /// deadline: fsync failed with ETIMEDOUT and close with ESTALE.
    @Test("dd of 1 GiB with conv=fsync succeeds and reads back equal")
    func largeFsync() async throws {
        try await MountFixture.with(cluster: true) { m in
            let source = m.root.appendingPathComponent("random.bin").path
            let dd = LogBuffer()
            #expect(m.run("dd", ["if=/dev/urandom", "of=\(source)", "bs=1M", "count=1024", "status=none"], output: dd) == 0)
            #expect(m.run("dd", ["if=\(source)", "of=\(m.path("big"))", "bs=1M", "conv=fsync", "status=none"], output: dd) == 0,
                    "dd into the mount: \(dd.value)")
            #expect(m.run("cmp", [source, m.path("big")], output: dd) == 0, "read back: \(dd.value)")
            try? FileManager.default.removeItem(atPath: source)
        }
    }
}
