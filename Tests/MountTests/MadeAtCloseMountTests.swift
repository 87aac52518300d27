import Foundation
import Glibc
import NetStoreTestSupport
import Testing

/// New files are made on the servers at their first close (docs/mount.md,
/// "Files made at close"), seen through two mounts of one account.
@Suite("New files made at their first close, through two mounts")
struct MadeAtCloseMountTests {
    @Test("a new file shows elsewhere from its close on, keeps its inode number, and O_EXCL holds at that close")
    func twoMounts() async throws {
        try await MountFixture.with(cluster: true) { a in
            let b = try await SecondMount(of: a)
            do {
                try await exercise(a, b)
            } catch {
                await b.unmount()
                throw error
            }
            await b.unmount()
        }
    }

    private func exercise(_ a: MountFixture, _ b: SecondMount) async throws {
        try await waitFor("both mounts to watch for changes", log: b.log) {
            a.mountLog.value.contains("watching for changes") && b.log.value.contains("watching for changes")
        }
        #expect(mkdir(a.path("d"), 0o755) == 0)
        try await waitFor("B lists d", log: b.log, timeout: .seconds(10)) { (try? Posix.list(b.path("d")).get()) == [] }

        // Open, written, not closed: only A knows it; A's kernel refuses a second O_EXCL.
        let fd = open(a.path("d/f"), O_WRONLY | O_CREAT | O_EXCL, 0o640)
        #expect(fd >= 0, "open: \(String(cString: strerror(errno)))")
        let bytes = Array("made at close\n".utf8)
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
        var before = Glibc.stat()
        #expect(fstat(fd, &before) == 0 && before.st_size == bytes.count)
        #expect(open(a.path("d/f"), O_WRONLY | O_CREAT | O_EXCL, 0o640) == -1 && errno == EEXIST)
        #expect(try Posix.list(a.path("d")).get() == ["f"], "a listing in A shows it (and has it made)")
        #expect(close(fd) == 0)
        try await waitFor("B sees d/f with its content", log: b.log, timeout: .seconds(10)) { (try? Posix.read(b.path("d/f")).get()) == bytes }
        let after = try Posix.stat(a.path("d/f")).get()
        #expect(after.st_ino == before.st_ino && after.st_mode & 0o7777 == 0o640)

        // Both made "g" before either closed it: the first close wins, the second fails with EEXIST.
        #expect(mkdir(a.path("e"), 0o755) == 0)
        try await waitFor("B lists e", log: b.log, timeout: .seconds(10)) { (try? Posix.list(b.path("e")).get()) == [] }
        let mine = open(a.path("e/g"), O_WRONLY | O_CREAT | O_EXCL, 0o644)
        #expect(mine >= 0)
        #expect(Glibc.write(mine, "mine", 4) == 4)
        #expect(Posix.write(b.path("e/g"), Array("theirs".utf8), flags: O_WRONLY | O_CREAT | O_EXCL) == 0)
        #expect(close(mine) == -1 && errno == EEXIST)
        try await waitFor("A reads B's e/g", log: a.mountLog, timeout: .seconds(10)) { (try? Posix.read(a.path("e/g")).get()) == Array("theirs".utf8) }
        #expect(try Posix.read(b.path("e/g")).get() == Array("theirs".utf8))
    }
}
