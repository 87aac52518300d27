import Foundation
import NetStoreTestSupport
import Testing

@Suite("A real mount", .serialized)
struct PosixTests {
    @Test("create, write, read, append, truncate, rename, links, modes and times through POSIX calls")
    func basics() async throws {
        try await MountFixture.with { m in
            let a = m.path("a.txt")
            #expect(Posix.write(a, Array("hello".utf8)) == 0)
            #expect(try Posix.read(a).get() == Array("hello".utf8))
            #expect(Posix.append(a, Array(" world".utf8)) == 0)
            #expect(try Posix.read(a).get() == Array("hello world".utf8))
            #expect(truncate(a, 5) == 0)
            #expect(try Posix.read(a).get() == Array("hello".utf8))
            #expect(truncate(a, 8) == 0)
            #expect(try Posix.read(a).get() == Array("hello".utf8) + [0, 0, 0])
            // Overwrite inside, and a read through a second descriptor sees it before close.
            let fd = open(a, O_RDWR)
            #expect(fd >= 0)
            #expect(pwrite(fd, "J", 1, 0) == 1)
            #expect(try Posix.pread(a, offset: 0, count: 2).get() == Array("Je".utf8))
            #expect(fsync(fd) == 0)
            #expect(close(fd) == 0)

            #expect(mkdir(m.path("d"), 0o750) == 0)
            #expect(rename(a, m.path("d/b.txt")) == 0)
            if case .failure(let error) = Posix.stat(a) { #expect(error.code == ENOENT) } else { Issue.record("a.txt still there") }
            #expect(link(m.path("d/b.txt"), m.path("hard")) == 0)
            #expect(try Posix.stat(m.path("hard")).get().st_nlink == 2)
            #expect(symlink("d/b.txt", m.path("sym")) == 0)
            #expect(try Posix.readlink(m.path("sym")).get() == "d/b.txt")
            #expect(try Posix.read(m.path("sym")).get() == Array("Jello".utf8) + [0, 0, 0])
            #expect(chmod(m.path("hard"), 0o600) == 0)
            #expect(try Posix.stat(m.path("d/b.txt")).get().st_mode & 0o7777 == 0o600)
            var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_200_000_000, tv_nsec: 5)]
            #expect(utimensat(AT_FDCWD, m.path("hard"), &times, 0) == 0)
            let stamped = try Posix.stat(m.path("hard")).get()
            #expect(stamped.st_mtim.tv_sec == 1_200_000_000 && stamped.st_mtim.tv_nsec == 5)
            #expect(stamped.st_atim.tv_sec == 1_000_000_000 && stamped.st_atim.tv_nsec == 123_456_789)
            // UTIME_OMIT and UTIME_NOW (<sys/stat.h>; not exported to Swift).
            var omitNow = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1)]
            #expect(utimensat(AT_FDCWD, m.path("hard"), &omitNow, 0) == 0)
            let touched = try Posix.stat(m.path("hard")).get()
            #expect(touched.st_atim.tv_sec == 1_000_000_000 && touched.st_mtim.tv_sec > 1_600_000_000)

            #expect(rmdir(m.path("d")) == -1 && errno == ENOTEMPTY)
            #expect(unlink(m.path("d/b.txt")) == 0)
            #expect(try Posix.stat(m.path("hard")).get().st_nlink == 1)
            #expect(rmdir(m.path("d")) == 0)
            #expect(mkfifo(m.path("fifo"), 0o600) == 0)
            #expect(try Posix.stat(m.path("fifo")).get().st_mode & S_IFMT == S_IFIFO)
            #expect(try Posix.list(m.mountpoint).get() == ["fifo", "hard", "sym"])
            // Extended attributes are not stored: a clean ENOTSUP.
            let xattr = LogBuffer()
            let script = "import os,sys\nfor f in (lambda: os.setxattr(sys.argv[1], 'user.t', b'v'), lambda: os.getxattr(sys.argv[1], 'user.t')):\n  try: f(); print('stored')\n  except OSError as e: print(e.errno)"
            #expect(m.run("python3", ["-c", script, m.path("hard")], output: xattr) == 0)
            #expect(xattr.value.split(separator: "\n") == ["\(ENOTSUP)", "\(ENOTSUP)"], "\(xattr.value)")
            // Files created here belong to the caller.
            let owner = try Posix.stat(m.path("hard")).get()
            #expect(owner.st_uid == getuid() && owner.st_gid == getgid())
        }
    }

    @Test("cp -a of a tree of 1,000 small files, and diff -r back")
    func copyTree() async throws {
        try await MountFixture.with { m in
            let source = m.root.appendingPathComponent("tree").path
            var random = SeededRandom(seed: 42)
            for d in 0..<20 {
                let dir = "\(source)/dir\(d)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for f in 0..<50 {
                    #expect(Posix.write("\(dir)/file\(f)", random.bytes(Int(random.next() % 3000))) == 0)
                }
            }
            let output = LogBuffer()
            #expect(m.run("cp", ["-a", source, m.path("tree")], output: output) == 0, "\(output.value)")
            #expect(m.run("diff", ["-r", source, m.path("tree")], output: output) == 0, "\(output.value)")
            #expect(try Posix.list(m.path("tree")).get().count == 20)
        }
    }

    @Test("a directory whose listing overflows one reply (3,500 names of 200 bytes): each name listed once, by readdir, ls -l and rm -r")
    func longListing() async throws {
        // Write-back: the 3,500 files are made by the server in batches (listing
        // their directory waits for them), a few seconds instead of a round trip each.
        try await MountFixture.with(mountOptions: ["writeback"]) { m in
            // The kernel asks for up to 1 MiB per reply; with attributes these names take about 1.2 MB.
            let names = (0..<3_500).map { "\(String(format: "%05d", $0))-" + String(repeating: "n", count: 194) }
            let make = "import os,sys\nd=sys.argv[1]\nos.mkdir(d)\nfor n in sys.stdin.read().split():\n  open(os.path.join(d,n),'w').close()"
            let directory = m.path("long")
            let input = m.root.appendingPathComponent("names").path
            try names.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
            let output = LogBuffer()
            #expect(m.run("sh", ["-c", "python3 -c \"$1\" \"$2\" < \"$3\"", "sh", make, directory, input], output: output) == 0, "\(output.value)")
            #expect(try Posix.list(directory).get() == names)
            #expect(m.run("sh", ["-c", "ls -l \"$1\" | grep -c -- '-n'", "sh", directory], output: output) == 0)
            #expect(output.value.split(separator: "\n").last == "3500", "\(output.value)")
            #expect(m.run("rm", ["-r", directory], output: output) == 0, "\(output.value)")
            #expect(try Posix.list(m.mountpoint).get().contains("long") == false)
        }
    }

    @Test("kill -9 of the mount after fsync loses nothing: a new mount sees the data")
    func killAfterFsync() async throws {
        try await MountFixture.with { m in
            var random = SeededRandom(seed: 7)
            let data = random.bytes(3 << 20 + 12345)
            let fd = open(m.path("durable"), O_WRONLY | O_CREAT, 0o644)
            #expect(fd >= 0)
            #expect(data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == data.count)
            #expect(fsync(fd) == 0)
            m.killMount()
            close(fd)  // the connection is gone; the data was made durable by fsync
            await m.unmount()
            #expect(!m.isMounted)
            try await m.startMount()
            #expect(try Posix.read(m.path("durable")).get() == data)
        }
    }

    @Test("without -f it returns once mounted and serves in the background; a wrong password mounts nothing")
    func background() async throws {
        try await MountFixture.with { m in
            await m.unmount()
            #expect(!m.isMounted)
            let output = LogBuffer()
            let wrong = m.root.appendingPathComponent("wrong").path
            try "not-the-password".write(toFile: wrong, atomically: true, encoding: .utf8)
            let refused = m.run(Binaries.path("netstore-mount"), [m.mountpoint, "--server", m.serverAddress, "--user", "admin", "--password-file", wrong],
                                output: output, environment: m.environment)
            #expect(refused == 1 && output.value.contains("wrong user name or password"), "\(output.value)")
            #expect(!m.isMounted)
            let unreachable = m.run(Binaries.path("netstore-mount"), [m.mountpoint, "--server", "127.0.0.1:1", "--user", "admin", "--password-file", m.passwordFile],
                                    output: output, environment: m.environment)
            #expect(unreachable == 1 && !m.isMounted)

            let status = m.run(Binaries.path("netstore-mount"), [m.mountpoint, "--server", m.serverAddress, "--user", "admin", "--password-file", m.passwordFile],
                               output: output, environment: m.environment)
            #expect(status == 0, "\(output.value)")
            #expect(m.isMounted)
            #expect(Posix.write(m.path("bg"), [1, 2, 3]) == 0)
            #expect(try Posix.read(m.path("bg")).get() == [1, 2, 3])
            #expect(m.run("fusermount3", ["-u", m.mountpoint]) == 0)
            #expect(!m.isMounted)
        }
    }
}
