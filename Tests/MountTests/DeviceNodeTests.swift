import Foundation
import NetStoreTestSupport
import Testing

/// Sockets and device nodes through a real mount, step by step against the same
/// steps in a local directory (pjdfstest's mknod, link, rename, chmod, chown,
/// unlink steps for these kinds). Runs as root: mknod of a device needs CAP_MKNOD.
@Suite("Sockets and device nodes through a real mount", .serialized)
struct DeviceNodeTests {
    /// glibc's makedev (a macro Swift does not import).
    static func makedev(_ major: UInt64, _ minor: UInt64) -> dev_t {
        dev_t((major & 0xFFF) << 8 | (major & ~0xFFF) << 32 | (minor & 0xFF) | (minor & ~0xFF) << 12)
    }

    /// Binds a unix socket at argv[1] and connects a second one to it: what each step gave.
    static let socketScript = """
        import os, socket, stat, sys
        path = sys.argv[1]
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(1)
        print("socket" if stat.S_ISSOCK(os.lstat(path).st_mode) else "not a socket")
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(path)
            peer, _ = server.accept()
            client.sendall(b"hi")
            print("connected", peer.recv(2).decode())
        except OSError as e:
            print("connect errno", e.errno)
        """

    /// The steps, each one's outcome as text.
    static func steps(_ m: MountFixture, in root: String) -> [String] {
        func p(_ name: String) -> String { "\(root)/\(name)" }
        func result(_ code: Int32) -> String { code == 0 ? "ok" : "errno \(errno)" }
        func describe(_ name: String) -> String {
            switch Posix.stat(p(name)) {
            case .success(let info):
                "\(name): type \(String(info.st_mode & S_IFMT, radix: 8)) mode \(String(info.st_mode & 0o7777, radix: 8)) "
                    + "rdev \(String(info.st_rdev, radix: 16)) nlink \(info.st_nlink) uid \(info.st_uid) gid \(info.st_gid) size \(info.st_size)"
            case .failure(let error): "\(name): \(error)"
            }
        }
        let output = LogBuffer()
        let bound = m.run("python3", ["-c", socketScript, p("sock")], output: output)
        var outcomes = [
            "mknod c 1 3: " + result(mknod(p("chr"), S_IFCHR | 0o644, makedev(1, 3))),
            "mknod b 7 0: " + result(mknod(p("blk"), S_IFBLK | 0o640, makedev(7, 0))),
            "mknod b again: " + result(mknod(p("blk"), S_IFBLK | 0o640, makedev(3, 4))),
            "mknod big numbers: " + result(mknod(p("big"), S_IFCHR | 0o600, makedev(4095, 0xFFFFF))),
            "bind: \(bound) \(output.value)",
        ]
        outcomes += ["chr", "blk", "big", "sock"].map(describe)
        outcomes += [
            "link chr: " + result(link(p("chr"), p("chr2"))), describe("chr"),
            "link sock: " + result(link(p("sock"), p("sock2"))), describe("sock2"),
            "chmod blk: " + result(chmod(p("blk"), 0o201)),
            "chown blk: " + result(chown(p("blk"), 65534, 65533)),
            "utimens chr: " + result(utimensat(AT_FDCWD, p("chr"), [timespec(tv_sec: 5, tv_nsec: 6), timespec(tv_sec: 7, tv_nsec: 8)], 0)),
            "truncate blk: " + result(truncate(p("blk"), 0)),
            "rename blk: " + result(rename(p("blk"), p("blk2"))), describe("blk"), describe("blk2"),
            "rename chr over sock2: " + result(rename(p("chr"), p("sock2"))), describe("sock2"), describe("chr2"),
            "unlink chr2: " + result(unlink(p("chr2"))), describe("sock2"),
            "unlink sock: " + result(unlink(p("sock"))),
            "rmdir blk2: " + result(rmdir(p("blk2"))),
            "unlink blk2: " + result(unlink(p("blk2"))),
        ]
        if case .success(let info) = Posix.stat(p("sock2")) {
            outcomes.append("chr mtime \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
        }
        outcomes.append("left: " + ((try? Posix.list(root).get()) ?? []).joined(separator: ","))
        return outcomes
    }

    @Test("mknod of character and block devices, bind of a unix socket, then stat, link, rename, chmod, chown, unlink as on a local disk")
    func sameAsLocal() async throws {
        try await MountFixture.with { m in
            let local = m.root.appendingPathComponent("local").path
            try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
            #expect(mkdir(m.path("d"), 0o755) == 0)
            let onMount = Self.steps(m, in: m.path("d"))
            let onLocal = Self.steps(m, in: local)
            #expect(onMount == onLocal)
            for (a, b) in zip(onMount, onLocal) where a != b { Issue.record("mount: \(a)\nlocal: \(b)") }
            #expect(onMount.contains("chr: type 20000 mode 644 rdev 103 nlink 1 uid 0 gid 0 size 0"), "\(onMount)")
            // A client connects to the socket bound in the mount while its server holds it.
            #expect(onMount.contains("bind: 0 socket\nconnected hi\n"), "\(onMount)")
        }
    }

    @Test("the mount is nodev (FUSE's default): opening one of its device nodes is refused with EACCES")
    func nodev() async throws {
        try await MountFixture.with { m in
            #expect(mknod(m.path("null"), S_IFCHR | 0o666, Self.makedev(1, 3)) == 0)
            #expect(open(m.path("null"), O_WRONLY) == -1 && errno == EACCES)
        }
    }
}
