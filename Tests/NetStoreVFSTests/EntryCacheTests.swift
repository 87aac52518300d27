import Foundation
import NetStoreCore
@testable import NetStoreVFS
import Testing

@Suite("Lookups answered from names just made or listed")
struct EntryCacheTests {
    @Test("in a directory made here, lookups need no request, and local changes show at once")
    func madeHere() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        var file = NodeAttributes(id: 0, kind: .file, mode: 0, uid: 0, gid: 0, nlink: 0, size: 0, atimeNs: 0, mtimeNs: 0, ctimeNs: 0, version: 0)
        let made = try await h.requests {
            #expect(await errnoOf { _ = try await vfs.lookup(parent: dir.id, name: "x") } == ENOENT)
            let (attributes, opened) = try await vfs.create(
                parent: dir.id, name: "x", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
            try await vfs.release(attributes.id, handle: opened.handle)
            file = try await vfs.lookup(parent: dir.id, name: "x")
            _ = try await vfs.mkdir(parent: dir.id, name: "sub", mode: 0o755, context: h.context)
            try await vfs.unlink(parent: dir.id, name: "x")
            #expect(await errnoOf { _ = try await vfs.lookup(parent: dir.id, name: "x") } == ENOENT)
        }
        #expect(made == ["createInline": 1, "mkdir": 1, "unlink": 1], "\(made)")
        #expect(file.kind == .file)
        // A failed rmdir leaves the name there.
        #expect(await errnoOf { try await vfs.rmdir(parent: 1, name: "d") } == ENOTEMPTY)
        #expect(try await vfs.lookup(parent: 1, name: "d").id == dir.id)
    }

    @Test("names a listing returned are looked up without a request")
    func listed() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let names = (0..<5).map { "n\($0)" }
        for name in names { _ = try await h.client.mkdir(parent: h.vfs.inodes.rootNode, name: name, mode: 0o755, uid: 0, gid: 0) }
        let handle = try await h.vfs.opendir(1)
        _ = try await h.vfs.readdir(1, handle: handle, offset: 0, limit: 100)
        h.vfs.releasedir(handle)
        let made = try await h.requests {
            for name in names { _ = try await h.vfs.lookup(parent: 1, name: name) }
        }
        #expect(made.isEmpty, "\(made)")
    }

    @Test("what the caches know is answered without waiting; what they do not, is left to the server")
    func answeredWithoutWaiting() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        _ = try await h.client.mkdir(parent: vfs.inodes.rootNode, name: "elsewhere", mode: 0o755, uid: 0, gid: 0)
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        let made = try await h.requests {
            // Made by another client: only the server knows it.
            let elsewhere = try vfs.cachedLookup(parent: 1, name: "elsewhere")
            #expect(elsewhere == nil)
            // Made here: known, with its attributes.
            let madeHere = try vfs.cachedLookup(parent: 1, name: "d")
            #expect(madeHere?.id == dir.id)
            #expect(vfs.cachedGetattr(dir.id)?.kind == .directory)
            // Known absent (a directory made here starts empty), hidden, or not a name at all.
            #expect(await errnoOf { _ = try vfs.cachedLookup(parent: dir.id, name: "x") } == ENOENT)
            #expect(await errnoOf { _ = try vfs.cachedLookup(parent: 1, name: ".netstore-unlinked") } == ENOENT)
            #expect(await errnoOf { _ = try vfs.cachedLookup(parent: 1, name: String(repeating: "n", count: 300)) } == ENAMETOOLONG)
        }
        #expect(made.isEmpty, "\(made)")
        // The server's answer fills the caches: the next one needs no request.
        _ = try await vfs.lookup(parent: 1, name: "elsewhere")
        let known = try vfs.cachedLookup(parent: 1, name: "elsewhere")
        #expect(known?.kind == .directory)
    }

    @Test("after a few lookups in one directory had to ask the server, its listing is read instead")
    func listAhead() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let made = try await h.client.mkdir(parent: h.vfs.inodes.rootNode, name: "elsewhere", mode: 0o755, uid: 0, gid: 0)
        for index in 0..<20 { _ = try await h.client.mkdir(parent: made.id, name: "n\(index)", mode: 0o700, uid: 0, gid: 0) }
        let dir = try await h.vfs.lookup(parent: 1, name: "elsewhere")
        var found: [NodeAttributes] = []
        let requests = try await h.requests {
            for index in 0..<20 { found.append(try await h.vfs.lookup(parent: dir.id, name: "n\(index)")) }
            // The whole listing was read: a name not in it is known absent.
            #expect(await errnoOf { _ = try await h.vfs.lookup(parent: dir.id, name: "absent") } == ENOENT)
        }
        #expect(requests == ["lookup": EntryCache.missesBeforeListing - 1, "readdir": 1], "\(requests)")
        #expect(found.allSatisfy { $0.kind == .directory && $0.mode & 0o777 == 0o700 })
        #expect(Set(found.map(\.id)).count == 20)
    }

    @Test("a directory whose every name is known (made here) is listed without a request; a name made elsewhere shows once the timeout has passed")
    func listingFromCaches() async throws {
        let h = try await VFSHarness(attributeTimeout: 0.5)
        defer { Task { await h.close() } }
        let dir = try await h.vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        var made: [String: NodeAttributes] = [:]
        for name in ["b", "a", "c"] { made[name] = try await h.vfs.mkdir(parent: dir.id, name: name, mode: 0o700, context: h.context) }
        func list() async throws -> [DirectoryItemSummary] {
            try await h.list(dir.id).map { DirectoryItemSummary(name: $0.name, inode: $0.attributes.id, mode: $0.attributes.mode & 0o7777) }
        }
        var listed: [DirectoryItemSummary] = []
        let requests = try await h.requests { listed = try await list() }
        #expect(requests["readdir"] == nil, "\(requests)")
        #expect(listed == ["a", "b", "c"].map { DirectoryItemSummary(name: $0, inode: made[$0]!.id, mode: 0o700) })
        _ = try await h.client.mkdir(parent: h.vfs.inodes.node(of: dir.id), name: "elsewhere", mode: 0o755, uid: 0, gid: 0)
        let deadline = ContinuousClock.now + .seconds(5)
        while try await !list().contains(where: { $0.name == "elsewhere" }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await list().map(\.name) == ["a", "b", "c", "elsewhere"])
    }

    struct DirectoryItemSummary: Equatable {
        var name: String
        var inode: UInt64
        var mode: UInt32
    }

    @Test("a name made elsewhere shows once the timeout has passed")
    func madeElsewhere() async throws {
        let h = try await VFSHarness(attributeTimeout: 0.2)
        defer { Task { await h.close() } }
        let dir = try await h.vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        _ = try await h.client.create(parent: h.vfs.inodes.node(of: dir.id), name: "other", mode: 0o644, uid: 0, gid: 0)
        let deadline = ContinuousClock.now + .seconds(5)
        var found = false
        while !found, ContinuousClock.now < deadline {
            found = (try? await h.vfs.lookup(parent: dir.id, name: "other")) != nil
            if !found { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(found)
        // Creating a name someone else took: opened (no O_EXCL) or EEXIST (O_EXCL).
        _ = try await h.client.create(parent: h.vfs.inodes.node(of: dir.id), name: "taken", mode: 0o644, uid: 0, gid: 0)
        #expect(await errnoOf {
            _ = try await h.vfs.create(parent: dir.id, name: "taken", mode: 0o644, flags: O_WRONLY | O_CREAT | O_EXCL, context: h.context)
        } == EEXIST)
        #expect(try await h.vfs.lookup(parent: dir.id, name: "taken").kind == .file)
    }

    @Test("a directory's cached attributes follow the entries made in it, as the server has them")
    func parentAttributes() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        _ = try await vfs.getattr(dir.id)
        var seen: [NodeAttributes] = []
        let made = try await h.requests {
            let (file, opened) = try await vfs.create(
                parent: dir.id, name: "f", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
            try await vfs.release(file.id, handle: opened.handle)
            seen.append(try await vfs.getattr(dir.id))
            _ = try await vfs.mkdir(parent: dir.id, name: "sub", mode: 0o755, context: h.context)
            seen.append(try await vfs.getattr(dir.id))
            _ = try await vfs.symlink(parent: dir.id, name: "s", target: "f", context: h.context)
            seen.append(try await vfs.getattr(dir.id))
        }
        #expect(made["getattr"] == nil, "\(made)")
        var server = try await h.client.getattr(h.vfs.inodes.node(of: dir.id))
        server.id = dir.id
        #expect(seen.last == server)
        #expect(seen.map(\.nlink) == [2, 3, 3])
    }
}
