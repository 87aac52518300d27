import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

/// Parked files (open, unlinked) of a mount that died stay on the server
/// until another mount sweeps them once their lease has run out.
@Suite("Sweeping the parked files of dead mounts")
struct SweepTests {
    @Test("a dead mount's directory and legacy parked files are swept once older than the lease; a live mount's parked file is kept")
    func sweep() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let lease = Duration.seconds(2)
        func start(_ name: String) async throws -> NetStoreVFS {
            try await NetStoreVFS.start(
                client: h.client,
                configuration: VFSConfiguration(cacheDirectory: h.directory.appendingPathComponent(name).path, unlinkedLease: lease),
                logger: .init(label: name))
        }
        let live = try await start("live")
        let (attributes, opened) = try await live.create(parent: 1, name: "open", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        _ = try await live.write(attributes.id, handle: opened.handle, offset: 0, bytes: Array("kept".utf8))
        try await live.unlink(parent: 1, name: "open")

        // What a mount killed with kill -9 leaves: its directory with a parked
        // file; and a file parked straight in the hidden directory by an earlier version.
        let hidden = try await h.client.lookup(parent: live.inodes.rootNode, name: NetStoreVFS.unlinkedDirectoryName).id
        let dead = try await h.client.mkdir(parent: hidden, name: "dead", mode: 0o700).id
        _ = try await h.client.create(parent: dead, name: "42")
        _ = try await h.client.create(parent: hidden, name: "43")

        let sweeper = try await start("sweeper")
        #expect(await sweeper.sweepUnlinked() == 0, "younger than the lease: kept")
        #expect(Set(try await h.client.readdirAll(hidden).map(\.name)) == [live.mountID, "dead", "43"])

        // The point is time passing: more than the lease, with both mounts alive.
        let deadline = ContinuousClock.now + .seconds(15)
        var names: [String] = []
        while ContinuousClock.now < deadline {
            names = try await h.client.readdirAll(hidden).map(\.name)
            if names == [live.mountID] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(names == [live.mountID], "the dead mount's leftovers are swept, the live one's kept")
        try await Task.sleep(for: lease)
        #expect(try await h.client.readdirAll(hidden).map(\.name) == [live.mountID], "still, a lease later")
        #expect(try await live.read(attributes.id, handle: opened.handle, offset: 0, count: 10) == Array("kept".utf8))

        // Unmounting cleans up after itself.
        try await live.release(attributes.id, handle: opened.handle)
        #expect(await live.flushAll() == 0)
        #expect(await sweeper.flushAll() == 0)
        #expect(try await h.client.readdirAll(hidden).isEmpty)
    }
}
