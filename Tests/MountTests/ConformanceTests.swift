import Foundation
import NetStoreTestSupport
import Testing

/// POSIX details the conformance suites check (pjdfstest's groups), as our own
/// focused tests: times that must move, name limits, and permissions for an
/// unprivileged user (uid and gid 65534) on a mount with allow_other.
@Suite("POSIX conformance through a real mount", .serialized)
struct ConformanceTests {
    static func nanoseconds(_ time: timespec) -> Int { time.tv_sec * 1_000_000_000 + time.tv_nsec }

    /// Runs `command` with sh as uid and gid 65534 (no supplementary groups); returns its exit status.
    static func asNobody(_ m: MountFixture, _ command: String, output: LogBuffer? = nil) -> Int32 {
        m.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", command], output: output)
    }

    @Test("a directory's mtime and ctime move at once with each entry made or removed in it; a file's ctime with each change to it")
    func timesMove() async throws {
        try await MountFixture.with { m in
            let dir = m.path("d")
            #expect(mkdir(dir, 0o755) == 0)
            #expect(Posix.write("\(dir)/file", [1]) == 0)
            let changes: [(String, () -> Int32)] = [
                ("create", { Posix.write("\(dir)/new", []) }),
                ("mkdir", { mkdir("\(dir)/sub", 0o755) }),
                ("mkfifo", { mkfifo("\(dir)/fifo", 0o644) }),
                ("symlink", { symlink("file", "\(dir)/sym") }),
                ("link", { link("\(dir)/file", "\(dir)/hard") }),
                ("rename", { rename("\(dir)/new", "\(dir)/renamed") }),
                ("unlink", { unlink("\(dir)/renamed") }),
                ("rmdir", { rmdir("\(dir)/sub") }),
            ]
            for (name, change) in changes {
                let before = try Posix.stat(dir).get()
                #expect(change() == 0, "\(name)")
                let after = try Posix.stat(dir).get()
                #expect(Self.nanoseconds(after.st_mtim) > Self.nanoseconds(before.st_mtim), "\(name) moves the directory's mtime")
                #expect(Self.nanoseconds(after.st_ctim) > Self.nanoseconds(before.st_ctim), "\(name) moves the directory's ctime")
            }
            let file = "\(dir)/file"
            let fileChanges: [(String, () -> Int32)] = [
                ("chmod", { chmod(file, 0o600) }),
                ("chown", { chown(file, 123, 456) }),
                ("link", { link(file, "\(dir)/hard2") }),
                ("unlink of another name", { unlink("\(dir)/hard2") }),
                ("truncate", { truncate(file, 10) }),
                ("utimensat", { utimensat(AT_FDCWD, file, nil, 0) }),
            ]
            for (name, change) in fileChanges {
                let before = try Posix.stat(file).get()
                #expect(change() == 0, "\(name)")
                let after = try Posix.stat(file).get()
                #expect(Self.nanoseconds(after.st_ctim) > Self.nanoseconds(before.st_ctim), "\(name) moves the file's ctime")
            }
        }
    }

    @Test("names of 255 bytes work for every kind of entry; 256 bytes fail with ENAMETOOLONG; symlink loops with ELOOP")
    func nameLimits() async throws {
        try await MountFixture.with { m in
            let longest = String(repeating: "n", count: 255)
            let tooLong = longest + "x"
            #expect(Posix.write(m.path(longest), [1]) == 0)
            #expect(link(m.path(longest), m.path("short")) == 0)
            #expect(unlink(m.path(longest)) == 0)
            #expect(rename(m.path("short"), m.path(longest)) == 0)
            #expect((try? Posix.list(m.mountpoint).get()) == [longest])
            let calls: [(String, () -> Int32)] = [
                ("open", { open(m.path(tooLong), O_CREAT | O_WRONLY, 0o644) }),
                ("mkdir", { mkdir(m.path(tooLong), 0o755) }),
                ("mkfifo", { mkfifo(m.path(tooLong), 0o644) }),
                ("symlink", { symlink("x", m.path(tooLong)) }),
                ("link", { link(m.path(longest), m.path(tooLong)) }),
                ("rename", { rename(m.path(longest), m.path(tooLong)) }),
                ("stat", { var info = stat(); return stat(m.path(tooLong), &info) }),
            ]
            for (name, call) in calls {
                #expect(call() == -1 && errno == ENAMETOOLONG, "\(name)")
            }
            #expect((try? Posix.list(m.mountpoint).get()) == [longest])
            // Symlink loops and O_NOFOLLOW end in ELOOP.
            #expect(symlink("loop2", m.path("loop1")) == 0 && symlink("loop1", m.path("loop2")) == 0)
            #expect(open(m.path("loop1"), O_RDONLY) == -1 && errno == ELOOP)
            #expect(open(m.path("loop1"), O_RDONLY | O_NOFOLLOW) == -1 && errno == ELOOP)
        }
    }

    @Test("an unprivileged user: modes, sticky directories, set-id bits cleared on write and chown, as on a local disk")
    func unprivileged() async throws {
        try await MountFixture.with(mountOptions: ["allow_other"]) { m in
            // The mount's root belongs to whoever mounted it; the test area is open to everyone, sticky.
            let area = m.path("area")
            #expect(mkdir(area, 0o777) == 0 && chmod(area, 0o1777) == 0)
            let output = LogBuffer()
            #expect(Self.asNobody(m, "echo mine > '\(area)/nobody.txt'", output: output) == 0, "\(output.value)")
            let mine = try Posix.stat("\(area)/nobody.txt").get()
            #expect(mine.st_uid == 65534 && mine.st_gid == 65534, "new files belong to their creator")

            // Root's file in the sticky directory: nobody may read it (0600), change it, remove or rename it.
            #expect(Posix.write("\(area)/root.txt", Array("secret".utf8), mode: 0o600) == 0)
            #expect(chmod("\(area)/root.txt", 0o600) == 0)
            #expect(Self.asNobody(m, "cat '\(area)/root.txt'") != 0)
            #expect(Self.asNobody(m, "chmod 0666 '\(area)/root.txt'") != 0)
            #expect(Self.asNobody(m, "rm -f '\(area)/root.txt'") != 0)
            #expect(Self.asNobody(m, "mv '\(area)/root.txt' '\(area)/taken.txt'") != 0)
            #expect(try Posix.read("\(area)/root.txt").get() == Array("secret".utf8))
            // Their own file they may remove.
            #expect(Self.asNobody(m, "rm '\(area)/nobody.txt'") == 0)

            // A directory of root's without write permission for others.
            #expect(mkdir(m.path("closed"), 0o755) == 0)
            #expect(Self.asNobody(m, "touch '\(m.path("closed"))/x'") != 0)
            #expect(Self.asNobody(m, "chown 65534 '\(area)/root.txt'") != 0)

            // Writing to a set-id file of another owner clears the set-id bits.
            #expect(Posix.write("\(area)/setid", [], mode: 0o6777) == 0)
            #expect(chmod("\(area)/setid", 0o6777) == 0)
            #expect(Self.asNobody(m, "echo x >> '\(area)/setid'", output: output) == 0, "\(output.value)")
            #expect(try Posix.stat("\(area)/setid").get().st_mode & 0o7777 == 0o777)
            // So does a change of owner of an executable.
            #expect(chmod("\(area)/setid", 0o6755) == 0)
            #expect(chown("\(area)/setid", 65534, 65534) == 0)
            #expect(try Posix.stat("\(area)/setid").get().st_mode & 0o7777 == 0o755)
            // The owner may chmod but not give the file away; a set-gid bit for a group they are not in is dropped.
            #expect(Self.asNobody(m, "chmod 0644 '\(area)/setid'") == 0)
            #expect(Self.asNobody(m, "chown 0 '\(area)/setid'") != 0)
            #expect(chown("\(area)/setid", 65534, 0) == 0)
            #expect(Self.asNobody(m, "chmod 02755 '\(area)/setid'") == 0)
            #expect(try Posix.stat("\(area)/setid").get().st_mode & 0o7777 == 0o755)
        }
    }
}
