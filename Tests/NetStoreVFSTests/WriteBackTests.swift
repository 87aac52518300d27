import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

@Suite("Write-back and commit")
struct WriteBackTests {
    @Test("writes stay local until flush, read back their own data, then commit whole")
    func writeBackThenCommit() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let (file, opened) = try await vfs.create(parent: 1, name: "f", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        let data = pattern(3 * Limits.blockSize + 10, seed: 1)
        // Written out of order, in pieces that straddle blocks.
        let cut = Limits.blockSize + 100
        _ = try await vfs.write(file.id, handle: opened.handle, offset: UInt64(cut), bytes: Array(data[cut...]))
        _ = try await vfs.write(file.id, handle: opened.handle, offset: 0, bytes: Array(data[..<cut]))
        // Nothing reached the server yet: the write-back area holds it.
        #expect(try await h.client.getContent(vfs.inodes.node(of: file.id)).size == 0)
        #expect(try await vfs.getattr(file.id).size == UInt64(data.count))
        let middle = try await vfs.read(file.id, handle: opened.handle, offset: UInt64(cut - 50), count: 100)
        #expect(middle == Array(data[(cut - 50)..<(cut + 50)]))

        try await vfs.flush(file.id, handle: opened.handle)
        #expect(try await h.serverBytes(file.id) == data)
        try await vfs.release(file.id, handle: opened.handle)
        #expect(vfs.openHandleCount == 0 && vfs.dirtyFileCount == 0)
        #expect(try await h.readFile(file.id) == data)
    }

    @Test("a small change to a big file uploads and changes only its block")
    func onlyChangedBlocks() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let data = pattern(4 * Limits.blockSize, seed: 2)
        let inode = try await h.writeFile("f", data)
        let node = h.vfs.inodes.node(of: inode)
        let before = try await h.client.getContent(node)

        let opened = try await h.vfs.open(inode, flags: O_RDWR)
        let offset = 2 * Limits.blockSize + 12345
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: UInt64(offset), bytes: [0xAB, 0xCD])
        try await h.vfs.release(inode, handle: opened.handle)

        let after = try await h.client.getContent(node)
        #expect(after.version > before.version)
        #expect(after.blocks[0] == before.blocks[0] && after.blocks[1] == before.blocks[1] && after.blocks[3] == before.blocks[3])
        #expect(after.blocks[2] != before.blocks[2])
        var expected = data
        expected[offset] = 0xAB
        expected[offset + 1] = 0xCD
        #expect(try await h.serverBytes(inode) == expected)
    }

    @Test("O_APPEND writes at the end; O_TRUNC empties the file")
    func appendAndTruncateOnOpen() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let inode = try await h.writeFile("f", Array("hello".utf8))
        let append = try await h.vfs.open(inode, flags: O_WRONLY | O_APPEND)
        _ = try await h.vfs.write(inode, handle: append.handle, offset: 0, bytes: Array(" world".utf8))
        try await h.vfs.release(inode, handle: append.handle)
        #expect(try await h.serverBytes(inode) == Array("hello world".utf8))

        let truncate = try await h.vfs.open(inode, flags: O_WRONLY | O_TRUNC)
        #expect(try await h.vfs.getattr(inode).size == 0)
        try await h.vfs.release(inode, handle: truncate.handle)
        #expect(try await h.client.getattr(h.vfs.inodes.node(of: inode)).size == 0)
    }

    @Test("truncate cuts inside a block, and a later extension reads zeros there")
    func truncateThenExtend() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let data = pattern(Limits.blockSize + 500, seed: 3)
        let inode = try await h.writeFile("f", data)
        let opened = try await h.vfs.open(inode, flags: O_RDWR)
        _ = try await h.vfs.setattr(inode, SetAttributes(size: 100))
        let extended = try await h.vfs.setattr(inode, SetAttributes(size: 3000))
        #expect(extended.size == 3000)
        let bytes = try await h.vfs.read(inode, handle: opened.handle, offset: 0, count: 4000)
        #expect(bytes == Array(data[..<100]) + [UInt8](repeating: 0, count: 2900))
        try await h.vfs.release(inode, handle: opened.handle)
        #expect(try await h.serverBytes(inode) == bytes)

        // A file nobody has open is truncated by the server directly.
        _ = try await h.vfs.setattr(inode, SetAttributes(size: 10))
        #expect(try await h.serverBytes(inode) == Array(data[..<10]))
    }

    @Test("a sparse write far out costs no memory or disk and reads zeros before it")
    func sparseFarWrite() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (file, opened) = try await h.vfs.create(parent: 1, name: "sparse", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        let far: UInt64 = 3 << 30
        _ = try await h.vfs.write(file.id, handle: opened.handle, offset: far, bytes: [7])
        #expect(try await h.vfs.read(file.id, handle: opened.handle, offset: 1 << 30, count: 16) == [UInt8](repeating: 0, count: 16))
        try await h.vfs.fsync(file.id, handle: opened.handle)
        let content = try await h.client.getContent(h.vfs.inodes.node(of: file.id))
        #expect(content.size == far + 1)
        #expect(content.blocks.filter { !$0.isHole }.count == 1)
        try await h.vfs.release(file.id, handle: opened.handle)
        let reopened = try await h.vfs.open(file.id, flags: O_RDONLY)
        #expect(try await h.vfs.read(file.id, handle: reopened.handle, offset: far - 1, count: 10) == [0, 7])
        try await h.vfs.release(file.id, handle: reopened.handle)
    }

    @Test("a file changed elsewhere while open here: flush reports ESTALE, never silence")
    func conflictIsReported() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let inode = try await h.writeFile("f", Array("one".utf8))
        let node = h.vfs.inodes.node(of: inode)
        let opened = try await h.vfs.open(inode, flags: O_RDWR)
        let current = try await h.client.getattr(node)
        _ = try await h.client.commit(node, baseVersion: current.version, size: 0, blocks: [])
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: 0, bytes: Array("two".utf8))
        #expect(await errnoOf { try await h.vfs.flush(inode, handle: opened.handle) } == ESTALE)
        #expect(await errnoOf { try await h.vfs.release(inode, handle: opened.handle) } == ESTALE)
    }

    @Test("a read-only handle cannot write")
    func readOnlyHandle() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let inode = try await h.writeFile("f", [1])
        let opened = try await h.vfs.open(inode, flags: O_RDONLY)
        #expect(await errnoOf { _ = try await h.vfs.write(inode, handle: opened.handle, offset: 0, bytes: [2]) } == EBADF)
        try await h.vfs.release(inode, handle: opened.handle)
        #expect(await errnoOf { _ = try await h.vfs.read(inode, handle: opened.handle, offset: 0, count: 1) } == EBADF)
    }

    @Test("reopening at an unchanged version keeps the kernel's page cache")
    func keepCache() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let inode = try await h.writeFile("f", [1, 2, 3])
        let first = try await h.vfs.open(inode, flags: O_RDONLY)
        try await h.vfs.release(inode, handle: first.handle)
        let second = try await h.vfs.open(inode, flags: O_RDONLY)
        #expect(second.keepCache)
        let node = h.vfs.inodes.node(of: inode)
        let current = try await h.client.getattr(node)
        _ = try await h.client.commit(node, baseVersion: current.version, size: 0, blocks: [])
        // Another open while `second` is still open sees the new version too (close-to-open).
        let third = try await h.vfs.open(inode, flags: O_RDONLY)
        #expect(third.keepCache == false)
        #expect(try await h.vfs.read(inode, handle: third.handle, offset: 0, count: 10) == [])
        try await h.vfs.release(inode, handle: second.handle)
        try await h.vfs.release(inode, handle: third.handle)
    }
}
