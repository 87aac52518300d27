import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

@Suite("Inodes and lookup counts")
struct InodeTests {
    @Test("the root is inode 1 and node ids map one to one")
    func rootMapping() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let root = try await h.vfs.getattr(InodeTable.rootInode)
        #expect(root.id == InodeTable.rootInode && root.kind == .directory)
        let table = h.vfs.inodes
        for node: NodeID in [1, 2, 3, table.rootNode, 99] {
            #expect(table.node(of: table.inode(of: node)) == node)
        }
    }

    @Test("every entry handed out counts one lookup; forget never goes below zero")
    func lookupCounts() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        #expect(vfs.inodes.lookupCount(dir.id) == 1)
        _ = try await vfs.lookup(parent: 1, name: "d")
        _ = try await vfs.lookup(parent: 1, name: "d")
        #expect(vfs.inodes.lookupCount(dir.id) == 3)
        vfs.forget(dir.id, count: 2)
        #expect(vfs.inodes.lookupCount(dir.id) == 1)
        vfs.forget(dir.id, count: 5)
        #expect(vfs.inodes.lookupCount(dir.id) == 0)
        _ = try await vfs.lookup(parent: 1, name: "d")
        #expect(vfs.inodes.lookupCount(dir.id) == 1)

        let file = try await h.writeFile("f", [1, 2, 3])
        #expect(vfs.inodes.lookupCount(file) == 1)
        let link = try await vfs.link(file, newParent: dir.id, newName: "g")
        #expect(link.id == file && link.nlink == 2)
        #expect(vfs.inodes.lookupCount(file) == 2)
        let symlink = try await vfs.symlink(parent: 1, name: "s", target: "f", context: h.context)
        #expect(vfs.inodes.lookupCount(symlink.id) == 1)
        // A failed lookup hands out nothing.
        #expect(await errnoOf { _ = try await vfs.lookup(parent: 1, name: "missing") } == ENOENT)
        #expect(vfs.inodes.rememberedCount == 3)
    }

    @Test("new nodes belong to the caller")
    func ownership() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let dir = try await h.vfs.mkdir(parent: 1, name: "d", mode: 0o750, context: h.context)
        #expect(dir.uid == 1234 && dir.gid == 5678 && dir.mode == 0o750)
        let fifo = try await h.vfs.mknod(parent: dir.id, name: "p", kind: .fifo, mode: 0o600, context: h.context)
        #expect(fifo.kind == .fifo && fifo.uid == 1234)
        let file = try await h.vfs.create(parent: 1, name: "f", mode: 0o640, flags: O_RDWR | O_CREAT, context: h.context)
        #expect(file.attributes.uid == 1234 && file.attributes.gid == 5678 && file.attributes.mode == 0o640)
        try await h.vfs.release(file.attributes.id, handle: file.opened.handle)
    }

    @Test("sockets and device nodes are stored with their device number, which lookup and getattr report")
    func deviceNodes() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let socket = try await h.vfs.mknod(parent: 1, name: "s", kind: .socket, mode: 0o755, rdev: 3, context: h.context)
        #expect(socket.kind == .socket && socket.rdev == 0)
        let block = try await h.vfs.mknod(parent: 1, name: "b", kind: .blockDevice, mode: 0o660, rdev: 0x700, context: h.context)
        #expect(block.kind == .blockDevice && block.rdev == 0x700 && block.uid == 1234)
        #expect(try await h.vfs.getattr(block.id).rdev == 0x700)
        let chr = try await h.vfs.mknod(parent: 1, name: "c", kind: .characterDevice, mode: 0o666, rdev: 0x103, context: h.context)
        #expect(try await h.vfs.lookup(parent: 1, name: "c").rdev == 0x103 && chr.kind == .characterDevice)
    }
}
