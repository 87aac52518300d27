import Foundation
import NetStoreTestSupport
import Testing

@Suite("The mount's read-ahead", .serialized)
struct ReadAheadTests {
    /// The kernel's read-ahead of the mount on `mountpoint`, in KiB (sysfs, by its device number).
    static func readAheadKiB(of mountpoint: String) throws -> Int? {
        var info = stat()
        guard stat(mountpoint, &info) == 0 else { throw TestFailure("cannot stat \(mountpoint)") }
        let device = UInt64(info.st_dev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        let text = try String(contentsOfFile: "/sys/class/bdi/\(major):\(minor)/read_ahead_kb", encoding: .utf8)
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("is one block once a file is opened, also on a mount point whose name /proc/self/mountinfo escapes",
          .enabled(if: getuid() == 0, "only root may set a device's read-ahead"))
    func oneBlock() async throws {
        try await MountFixture.with { m in
            let bytes = [UInt8](repeating: 7, count: 3 << 20)
            #expect(Posix.write(m.path("f"), bytes) == 0)
            #expect(try Posix.read(m.path("f")).get() == bytes)
            #expect(try Self.readAheadKiB(of: m.mountpoint) == 1024)

            let second = try await SecondMount(of: m, mountpointName: "mnt two")
            #expect(try Self.readAheadKiB(of: second.mountpoint) != 1024)  // the kernel's own, before any open
            #expect(try Posix.read(second.path("f")).get() == bytes)
            #expect(try Self.readAheadKiB(of: second.mountpoint) == 1024)
            await second.unmount()
        }
    }
}
