import NetStoreTestSupport
import Foundation
import NetStoreCore
import Testing

@Suite("Files round-trip through the real server and CLI")
struct RoundTripTests {
    @Test("put then get returns the same bytes", arguments: [
        0, 1, Limits.blockSize - 1, Limits.blockSize, Limits.blockSize + 1, 3 * Limits.blockSize + 12345,
    ])
    func roundTrip(size: Int) async throws {
        let fixture = try await Fixture()
        let alice = try fixture.user("alice")
        let local = fixture.dir.path("in-\(size)")
        let expected = try writeRandomFile(local, size: size, seed: UInt64(size) + 7)
        let put = try alice.run("put", local.path, "/file-\(size)")
        #expect(put.succeeded, "put: \(put.stderr)")
        let back = fixture.dir.path("out-\(size)")
        let get = try alice.run("get", "/file-\(size)", back.path)
        #expect(get.succeeded, "get: \(get.stderr)")
        #expect(try sha256(of: back) == expected)
        let stat = try alice.run("stat", "/file-\(size)")
        #expect(stat.stdout.contains("\(size)"), "stat shows the size: \(stat.stdout)")
    }

    @Test("a 300 MiB file round-trips with equal SHA-256")
    func largeFile() async throws {
        let fixture = try await Fixture()
        let alice = try fixture.user("alice")
        let local = fixture.dir.path("big")
        let size = 300 << 20
        let expected = try writeRandomFile(local, size: size, seed: 42)
        let put = try alice.run("put", local.path, "/big")
        #expect(put.succeeded, "put: \(put.stderr)")
        try FileManager.default.removeItem(at: local)
        let back = fixture.dir.path("big-back")
        let get = try alice.run("get", "/big", back.path)
        #expect(get.succeeded, "get: \(get.stderr)")
        #expect(try sha256(of: back) == expected)
    }

    @Test("a file whose put returned survives kill -9 of the server")
    func survivesKill9() async throws {
        let fixture = try await Fixture()
        let alice = try fixture.user("alice")
        let local = fixture.dir.path("precious")
        let expected = try writeRandomFile(local, size: 2 * Limits.blockSize + 99, seed: 9)
        #expect(try alice.run("mkdir", "-p", "/a/b").succeeded)
        let put = try alice.run("put", local.path, "/a/b/precious")
        try #require(put.succeeded, "put: \(put.stderr)")

        fixture.server.kill9()
        try await fixture.server.start()

        let back = fixture.dir.path("precious-back")
        let get = try alice.run("get", "/a/b/precious", back.path)
        #expect(get.succeeded, "get after restart: \(get.stderr)\n\(fixture.server.output)")
        #expect(try sha256(of: back) == expected)
    }

    @Test("replacing a file's content keeps the new version only")
    func overwrite() async throws {
        let fixture = try await Fixture()
        let alice = try fixture.user("alice")
        let first = fixture.dir.path("first")
        let second = fixture.dir.path("second")
        try writeRandomFile(first, size: 3 * Limits.blockSize, seed: 1)
        let expected = try writeRandomFile(second, size: 1000, seed: 2)
        #expect(try alice.run("put", first.path, "/f").succeeded)
        #expect(try alice.run("put", second.path, "/f").succeeded)
        let back = fixture.dir.path("back")
        #expect(try alice.run("get", "/f", back.path).succeeded)
        #expect(try sha256(of: back) == expected)
    }
}
