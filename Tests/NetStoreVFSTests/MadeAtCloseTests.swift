import Foundation
import Logging
import NetStoreCore
@testable import NetStoreVFS
import Testing

@Suite("New files made on the server at their first close")
struct MadeAtCloseTests {
    /// A directory made through the layer (so its names are known: creates in it are deferred) and its node.
    static func directory(_ h: VFSHarness, _ name: String = "d") async throws -> (inode: UInt64, node: NodeID) {
        let dir = try await h.vfs.mkdir(parent: InodeTable.rootInode, name: name, mode: 0o755, context: h.context)
        return (dir.id, h.vfs.inodes.node(of: dir.id))
    }

    @Test("a new small file is made at its first close, with its content, in one request")
    func oneRequest() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await Self.directory(h)
        let bytes = pattern(4096, seed: 3)
        var inode: UInt64 = 0
        let made = try await h.requests {
            let (attributes, opened) = try await h.vfs.create(
                parent: dir, name: "f", mode: 0o640, flags: O_WRONLY | O_CREAT | O_EXCL, context: h.context)
            inode = attributes.id
            #expect(inode >= InodeTable.provisionalBase && attributes.kind == .file && attributes.mode & 0o7777 == 0o640)
            _ = try await h.vfs.write(inode, handle: opened.handle, offset: 0, bytes: bytes)
            // Only here so far; this mount's getattr sees what was written.
            #expect(await errnoOf { _ = try await h.client.lookup(parent: dirNode, name: "f") } == ENOENT)
            #expect(try await h.vfs.getattr(inode).size == UInt64(bytes.count))
            try await h.vfs.flush(inode, handle: opened.handle)
            try await h.vfs.release(inode, handle: opened.handle)
        }
        #expect(made == ["createInline": 1, "lookup": 1], "\(made)")  // the lookup is the test's own
        let onServer = try await h.client.lookup(parent: dirNode, name: "f")
        #expect(onServer.id < InodeTable.provisionalBase && onServer.mode & 0o7777 == 0o640)
        #expect(onServer.uid == h.context.uid && onServer.gid == h.context.gid)
        // The kernel keeps its inode number: it stands for the node now.
        #expect(h.vfs.inodes.node(of: inode) == onServer.id && h.vfs.inodes.inode(of: onServer.id) == inode)
        #expect(try await h.serverBytes(inode) == bytes)
        #expect(try await h.vfs.getattr(inode).id == inode)
        #expect(try await h.vfs.lookup(parent: dir, name: "f").id == inode)
        #expect(try await h.readFile(inode) == bytes)

        // Once the kernel forgets the number, the node goes by its own id again.
        h.vfs.forget(inode, count: h.vfs.inodes.lookupCount(inode))
        #expect(h.vfs.inodes.inode(of: onServer.id) == onServer.id)
    }

    @Test("an empty new file is made at its close; a bigger one is made, then its blocks committed")
    func emptyAndBig() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await Self.directory(h)
        let touched = try await h.requests {
            let (attributes, opened) = try await h.vfs.create(parent: dir, name: "empty", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
            try await h.vfs.release(attributes.id, handle: opened.handle)
        }
        #expect(touched == ["createInline": 1], "\(touched)")
        let empty = try await h.client.lookup(parent: dirNode, name: "empty")
        #expect(empty.size == 0 && empty.kind == .file)

        let big = pattern(Limits.inlineContentLimit + 1, seed: 4)
        var inode: UInt64 = 0
        let made = try await h.requests {
            let (attributes, opened) = try await h.vfs.create(parent: dir, name: "big", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
            inode = attributes.id
            _ = try await h.vfs.write(inode, handle: opened.handle, offset: 0, bytes: big)
            try await h.vfs.release(inode, handle: opened.handle)
        }
        #expect(made["create"] == 1 && made["commit"] == 1 && made["createInline"] == nil, "\(made)")
        #expect(try await h.serverBytes(inode) == big)
    }

    @Test("a listing, a lookup of its name, a rename or a chmod has the server make the file first")
    func madeWhenSeen() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await Self.directory(h)

        // A listing shows it (made empty), and its content follows at close.
        let (listed, listedHandle) = try await h.vfs.create(parent: dir, name: "listed", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        _ = try await h.vfs.write(listed.id, handle: listedHandle.handle, offset: 0, bytes: Array("abc".utf8))
        let handle = try await h.vfs.opendir(dir)
        let items = try await h.vfs.readdir(dir, handle: handle, offset: 0, limit: 100)
        h.vfs.releasedir(handle)
        #expect(items.contains { $0.name == "listed" && $0.attributes.id == listed.id })
        #expect(try await h.client.lookup(parent: dirNode, name: "listed").size == 0)
        try await h.vfs.release(listed.id, handle: listedHandle.handle)
        #expect(try await h.serverBytes(listed.id) == Array("abc".utf8))

        // A lookup of its name (the kernel dropped its entry) finds the same inode.
        let (looked, lookedHandle) = try await h.vfs.create(parent: dir, name: "looked", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        #expect(try await h.vfs.lookup(parent: dir, name: "looked").id == looked.id)
        try await h.vfs.release(looked.id, handle: lookedHandle.handle)

        // Renamed and chmod-ed while open and unwritten: both apply to the file made.
        let (renamed, renamedHandle) = try await h.vfs.create(parent: dir, name: "old", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        try await h.vfs.rename(parent: dir, name: "old", newParent: dir, newName: "new", flags: [])
        _ = try await h.vfs.setattr(renamed.id, SetAttributes(mode: 0o600))
        _ = try await h.vfs.write(renamed.id, handle: renamedHandle.handle, offset: 0, bytes: Array("xyz".utf8))
        try await h.vfs.release(renamed.id, handle: renamedHandle.handle)
        #expect(await errnoOf { _ = try await h.client.lookup(parent: dirNode, name: "old") } == ENOENT)
        let new = try await h.client.lookup(parent: dirNode, name: "new")
        #expect(new.mode & 0o7777 == 0o600 && h.vfs.inodes.node(of: renamed.id) == new.id)
        #expect(try await h.serverBytes(renamed.id) == Array("xyz".utf8))

        // Unlinked before its close: nothing is left of it.
        let (gone, goneHandle) = try await h.vfs.create(parent: dir, name: "gone", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        try await h.vfs.unlink(parent: dir, name: "gone")
        _ = try await h.vfs.write(gone.id, handle: goneHandle.handle, offset: 0, bytes: Array("tmp".utf8))
        #expect(try await h.vfs.read(gone.id, handle: goneHandle.handle, offset: 0, count: 10) == Array("tmp".utf8))
        try await h.vfs.release(gone.id, handle: goneHandle.handle)
        #expect(await errnoOf { _ = try await h.client.lookup(parent: dirNode, name: "gone") } == ENOENT)
        #expect(h.vfs.unmadeCount.load(ordering: .acquiring) == 0)
    }

    @Test("a name taken elsewhere before the first close fails that close with EEXIST and leaves the other file as it was")
    func takenMeanwhile() async throws {
        let h = try await VFSHarness(attributeTimeout: 30)
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await Self.directory(h)
        let (attributes, opened) = try await h.vfs.create(parent: dir, name: "race", mode: 0o644, flags: O_WRONLY | O_CREAT | O_EXCL, context: h.context)
        _ = try await h.vfs.write(attributes.id, handle: opened.handle, offset: 0, bytes: Array("mine".utf8))
        let theirs = try await h.client.createInline(parent: dirNode, name: "race", bytes: Array("theirs".utf8))
        #expect(await errnoOf { try await h.vfs.flush(attributes.id, handle: opened.handle) } == EEXIST)
        #expect(await errnoOf { try await h.vfs.release(attributes.id, handle: opened.handle) } == EEXIST)
        #expect(try await h.client.lookup(parent: dirNode, name: "race") == theirs)
        #expect(h.vfs.unmadeCount.load(ordering: .acquiring) == 0)
        // The number never stood for a node.
        #expect(await errnoOf { _ = try await h.vfs.getattr(attributes.id) } == ENOENT)
    }

    @Test("with create_at_open, or where the name is not known free, create asks the server at once")
    func atOpen() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        // The root's names are not known here: the server is asked.
        let (rootFile, rootHandle) = try await h.vfs.create(
            parent: InodeTable.rootInode, name: "r", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        #expect(rootFile.id < InodeTable.provisionalBase)
        try await h.vfs.release(rootFile.id, handle: rootHandle.handle)

        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let vfs = try NetStoreVFS(
            client: h.client, rootNode: h.vfs.inodes.rootNode,
            configuration: VFSConfiguration(cacheDirectory: h.directory.appendingPathComponent("cache2").path, createAtClose: false),
            logger: logger)
        let dir = try await vfs.mkdir(parent: InodeTable.rootInode, name: "at-open", mode: 0o755, context: h.context)
        let (made, handle) = try await vfs.create(parent: dir.id, name: "f", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        #expect(made.id < InodeTable.provisionalBase)
        #expect(try await h.client.lookup(parent: vfs.inodes.node(of: dir.id), name: "f").id == made.id)
        try await vfs.release(made.id, handle: handle.handle)
    }
}
