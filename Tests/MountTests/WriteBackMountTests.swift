import Foundation
import Glibc
import NetStoreTestSupport
import Testing

/// Write-back mode (docs/mount.md, "Write-back mode") through a real mount of
/// a real cluster.
@Suite("Write-back mode through a real mount")
struct WriteBackMountTests {
    @Test("closes return while the primary cannot answer; kill -9 of the mount loses none of them: the next mount makes every file")
    func killedMountLosesNothing() async throws {
        try await MountFixture.with(cluster: true, mountOptions: ["writeback"]) { m in
            #expect(mkdir(m.path("d"), 0o755) == 0)
            let first = Array("made before the primary stopped\n".utf8)
            #expect(Posix.write(m.path("d/first"), first) == 0)
            // fsync of the directory returns once the servers have made it.
            let directory = open(m.path("d"), O_RDONLY | O_DIRECTORY)
            #expect(directory >= 0 && fsync(directory) == 0)
            close(directory)

            let contents = (0..<100).map { index in (0..<(50 + 37 * index)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }
            m.cluster!.servers[0].send(SIGSTOP)
            for (index, bytes) in contents.enumerated() {
                #expect(Posix.write(m.path("d/f\(index)"), bytes, flags: O_WRONLY | O_CREAT | O_EXCL) == 0, "d/f\(index)")
            }
            #expect(try Posix.read(m.path("d/f42")).get() == contents[42])
            m.killMount()
            await m.unmount()
            m.cluster!.servers[0].send(SIGCONT)

            try await m.startMount()
            #expect(m.mountLog.value.contains("making the files a previous mount closed in write-back mode"), "\(m.mountLog.value)")
            let names = try Posix.list(m.path("d")).get()
            #expect(Set(names) == Set(["first"] + contents.indices.map { "f\($0)" }), "\(names.sorted())")
            #expect(try Posix.read(m.path("d/first")).get() == first)
            for (index, bytes) in contents.enumerated() {
                #expect(try Posix.read(m.path("d/f\(index)")).get() == bytes, "d/f\(index)")
            }
        }
    }

    @Test("unlinks and the rmdir of an emptied directory return while the primary cannot answer; kill -9 of the mount loses none of them")
    func killedMountLosesNoRemoval() async throws {
        try await MountFixture.with(cluster: true, mountOptions: ["writeback"]) { m in
            #expect(mkdir(m.path("d"), 0o755) == 0)
            let names = (0..<60).map { "f\($0)" }
            for name in names { #expect(Posix.write(m.path("d/\(name)"), Array(name.utf8)) == 0, "\(name)") }
            #expect(mkdir(m.path("d/sub"), 0o755) == 0 && Posix.write(m.path("d/sub/x"), [1]) == 0)
            // Listed (made on the servers first), as before `rm`.
            #expect(Set(try Posix.list(m.path("d")).get()) == Set(names + ["sub"]))
            #expect(try Posix.list(m.path("d/sub")).get() == ["x"])

            m.cluster!.servers[0].send(SIGSTOP)
            let removed = names.prefix(45)
            for name in removed { #expect(unlink(m.path("d/\(name)")) == 0, "\(name)") }
            #expect(unlink(m.path("d/sub/x")) == 0 && rmdir(m.path("d/sub")) == 0)
            var info = stat()
            #expect(stat(m.path("d/f0"), &info) == -1 && errno == ENOENT)
            m.killMount()
            await m.unmount()
            m.cluster!.servers[0].send(SIGCONT)

            // What the dead mount left is reported, from the default cache and from one named.
            for cache in [[], ["--cache", m.root.appendingPathComponent("cache/netstore").path]] {
                let output = LogBuffer()
                #expect(m.run(Binaries.path("netstore"), ["status", "--server", m.serverAddress] + cache,
                              output: output, environment: m.cliEnvironment) == 0, "\(output.value)")
                #expect(output.value.contains("write-back journal") && output.value.contains("changes not on the servers yet"),
                        "\(cache): \(output.value)")
            }

            try await m.startMount()
            #expect(Set(try Posix.list(m.path("d")).get()) == Set(names.dropFirst(45)))
        }
    }
}
