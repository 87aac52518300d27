import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

@Suite("Open files without a name, and directory attributes after changes")
struct UnlinkedTests {
    @Test("an unlinked open file keeps its content and takes writes until its last release, then it is gone from the server")
    func unlinkedUntilRelease() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let inode = try await h.writeFile("f", Array("hello".utf8))
        let opened = try await vfs.open(inode, flags: O_RDWR)
        try await vfs.unlink(parent: 1, name: "f")
        #expect(await errnoOf { _ = try await vfs.lookup(parent: 1, name: "f") } == ENOENT)
        #expect(try await vfs.getattr(inode).nlink == 0)
        _ = try await vfs.write(inode, handle: opened.handle, offset: 5, bytes: Array(" world".utf8))
        try await vfs.fsync(inode, handle: opened.handle)
        #expect(try await vfs.read(inode, handle: opened.handle, offset: 0, count: 100) == Array("hello world".utf8))

        // Hidden from listings and lookups, but there on the server while open.
        let handle = try await vfs.opendir(1)
        let names = try await vfs.readdir(1, handle: handle, offset: 0, limit: 100).map(\.name)
        vfs.releasedir(handle)
        #expect(names == [".", ".."])
        #expect(await errnoOf { _ = try await vfs.lookup(parent: 1, name: NetStoreVFS.unlinkedDirectoryName) } == ENOENT)
        let root = vfs.inodes.rootNode
        let hidden = try await h.client.lookup(parent: root, name: NetStoreVFS.unlinkedDirectoryName)
        let parked = try await h.client.lookup(parent: hidden.id, name: vfs.mountID)
        #expect(try await h.client.readdirAll(parked.id).count == 1, "in the mount's own directory")

        try await vfs.release(inode, handle: opened.handle)
        #expect(try await h.client.readdirAll(parked.id).isEmpty, "the last release deletes it")
        #expect(await errnoOf { _ = try await h.client.getattr(vfs.inodes.node(of: inode)) } == ENOENT)
    }

    @Test("a rename over an open file keeps the old file for its handle; a directory cannot replace it")
    func renameOver() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let old = try await h.writeFile("target", Array("old".utf8))
        let new = try await h.writeFile("source", Array("new".utf8))
        let opened = try await vfs.open(old, flags: O_RDONLY)
        try await vfs.rename(parent: 1, name: "source", newParent: 1, newName: "target", flags: [])
        #expect(try await vfs.lookup(parent: 1, name: "target").id == new)
        #expect(try await vfs.read(old, handle: opened.handle, offset: 0, count: 10) == Array("old".utf8))
        try await vfs.release(old, handle: opened.handle)

        // A directory cannot replace a file: the open file keeps its name.
        let again = try await vfs.open(new, flags: O_RDONLY)
        _ = try await vfs.mkdir(parent: 1, name: "dir", mode: 0o755, context: h.context)
        #expect(await errnoOf { try await vfs.rename(parent: 1, name: "dir", newParent: 1, newName: "target", flags: []) } != nil)
        #expect(try await vfs.lookup(parent: 1, name: "target").id == new)
        try await vfs.release(new, handle: again.handle)
    }

    @Test("a directory's times are fresh right after an entry is made in it")
    func parentTimes() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        let before = try await vfs.getattr(dir.id)
        try await Task.sleep(for: .milliseconds(5))
        _ = try await vfs.mkdir(parent: dir.id, name: "sub", mode: 0o755, context: h.context)
        let after = try await vfs.getattr(dir.id)
        #expect(after.mtimeNs > before.mtimeNs && after.ctimeNs > before.ctimeNs && after.nlink == before.nlink + 1)
        let beforeLink = try await vfs.getattr(dir.id)
        let file = try await h.writeFile("file", [1])
        try await Task.sleep(for: .milliseconds(5))
        _ = try await vfs.link(file, newParent: dir.id, newName: "linked")
        #expect(try await vfs.getattr(dir.id).mtimeNs > beforeLink.mtimeNs)
    }
}
