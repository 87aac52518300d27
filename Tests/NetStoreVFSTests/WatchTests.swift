import Foundation
import NetStoreClient
import NetStoreCore
import NetStoreTestSupport
import NetStoreVFS
import Synchronization
import Testing

/// With a live watch, attributes and names are kept long, and a change made
/// elsewhere drops them here and is handed on for the kernel.
@Suite("Caches kept long while watching, dropped by change notices")
struct WatchTests {
    @Test("the timeout is long only while the watch is live; changes elsewhere drop what is cached")
    func changesElsewhere() async throws {
        let h = try await VFSHarness(watchedAttributeTimeout: 30)
        defer { Task { await h.close() } }
        #expect(h.vfs.cacheTimeout == 1, "short before the watch is live")
        let kernel = Invalidations()
        h.vfs.startWatching { kernel.add($0) }
        #expect(try await waitUntil { h.client.isWatchLive })
        #expect(h.vfs.cacheTimeout == 30)

        let inode = try await h.writeFile("f", [1, 2, 3])
        #expect(try await h.vfs.getattr(inode).size == 3)
        let lookedUp = try await h.vfs.lookup(parent: 1, name: "f")
        #expect(lookedUp.id == inode)

        // Another client (another connection) of the same account changes the file and adds a name.
        let other = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: h.port)],
            credentials: .password(user: "admin", password: VFSHarness.password))
        defer { Task { await other.close() } }
        let node = h.vfs.inodes.node(of: inode)
        let content = try await other.getContent(node)
        _ = try await other.send(.commitInline(node: node, baseVersion: content.version, data: .init(bytes: [9, 9, 9, 9, 9])))
        #expect(try await waitUntil { try await h.vfs.getattr(inode).size == 5 }, "the new size is seen at once, not after 30 s")
        #expect(try await waitUntil { kernel.all.contains(.inode(inode)) }, "the kernel is told to drop the inode")

        _ = try await other.send(.create(parent: h.vfs.inodes.rootNode, name: "g", mode: 0o644, uid: 0, gid: 0))
        #expect(try await waitUntil { kernel.all.contains(.entry(parent: 1, name: "g")) }, "the kernel is told of the new name")
        #expect(try await h.vfs.lookup(parent: 1, name: "g").kind == .file)

        // Own changes are not told back.
        let before = kernel.all.count
        _ = try await h.writeFile("mine", [1])
        try await h.vfs.unlink(parent: 1, name: "mine")
        _ = try await other.send(.mkdir(parent: h.vfs.inodes.rootNode, name: "marker", mode: 0o755, uid: 0, gid: 0))
        #expect(try await waitUntil { kernel.all.contains(.entry(parent: 1, name: "marker")) })
        #expect(!kernel.all[before...].contains(.entry(parent: 1, name: "mine")), "\(kernel.all[before...])")
    }

    @Test("names and attributes outlive the kernel forgetting them: a lookup after FORGET needs no request, until a change elsewhere")
    func keptAcrossForget() async throws {
        let h = try await VFSHarness(watchedAttributeTimeout: 30)
        defer { Task { await h.close() } }
        h.vfs.startWatching { _ in }
        #expect(try await waitUntil { h.client.isWatchLive })
        let inode = try await h.writeFile("f", [1, 2])
        let handle = try await h.vfs.opendir(1)
        _ = try await h.vfs.readdir(1, handle: handle, offset: 0, limit: 100)
        h.vfs.releasedir(handle)
        _ = try await h.vfs.lookup(parent: 1, name: "f")
        // The kernel drops every lookup it held (memory pressure, drop_caches).
        h.vfs.forget(inode, count: 2)
        var sizes: [UInt64] = []
        let again = try await h.requests {
            sizes.append(try await h.vfs.lookup(parent: 1, name: "f").size)
            sizes.append(try await h.vfs.getattr(inode).size)
        }
        #expect(sizes == [2, 2])
        #expect(again.isEmpty, "answered from what this mount cached: \(again)")

        let other = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: h.port)],
            credentials: .password(user: "admin", password: VFSHarness.password))
        defer { Task { await other.close() } }
        h.vfs.forget(inode, count: 1)
        let node = h.vfs.inodes.node(of: inode)
        let content = try await other.getContent(node)
        _ = try await other.send(.commitInline(node: node, baseVersion: content.version, data: .init(bytes: [7, 7, 7])))
        #expect(try await waitUntil { try await h.vfs.lookup(parent: 1, name: "f").size == 3 }, "a change elsewhere still drops it")
    }

    @Test("a reset drops every cached attribute and name and every inode the kernel holds")
    func reset() async throws {
        let h = try await VFSHarness(watchedAttributeTimeout: 30)
        defer { Task { await h.close() } }
        let inode = try await h.writeFile("f", [1])
        _ = try await h.vfs.lookup(parent: 1, name: "f")
        let work = h.vfs.dropCached([.reset])
        #expect(work.contains(.inode(1)))
        #expect(work.contains(.inode(inode)))
        #expect(work.contains(.entry(parent: 1, name: "f")))
        // A node the kernel never received is not the kernel's business.
        #expect(h.vfs.dropCached([.node(999_999), .entry(parent: 999_999, name: "x")]).isEmpty)
    }
}

final class Invalidations: Sendable {
    private let items = Mutex<[KernelInvalidation]>([])
    func add(_ work: [KernelInvalidation]) { items.withLock { $0 += work } }
    var all: [KernelInvalidation] { items.withLock { $0 } }
}
