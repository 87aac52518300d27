import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

@Suite("Small files committed with their bytes inline")
struct InlineCommitTests {
    @Test("a new small file is one commit carrying its bytes; a bigger one still uploads its blocks")
    func oneRequest() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let bytes = pattern(4096, seed: 7)
        var inode: UInt64 = 0
        let made = try await h.requests { inode = try await h.writeFile("small", bytes) }
        #expect(made == ["create": 1, "commitInline": 1], "\(made)")
        #expect(try await h.serverBytes(inode) == bytes)
        #expect(try await h.client.getContent(h.vfs.inodes.node(of: inode)).blocks.count == 1)

        let big = pattern(Limits.inlineContentLimit + 1, seed: 8)
        let uploaded = try await h.requests { inode = try await h.writeFile("big", big) }
        #expect(uploaded["commitInline"] == nil && uploaded["putBlock"] == 1 && uploaded["commit"] == 1, "\(uploaded)")
        #expect(try await h.serverBytes(inode) == big)
    }

    @Test("zeros are stored as a hole; a rewrite commits on the version it was opened at")
    func holesAndRewrites() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let zeros = try await h.writeFile("zeros", [UInt8](repeating: 0, count: 3000))
        let content = try await h.client.getContent(h.vfs.inodes.node(of: zeros))
        #expect(content.blocks.isEmpty && content.size == 3000)
        #expect(try await h.readFile(zeros) == [UInt8](repeating: 0, count: 3000))

        let inode = try await h.writeFile("f", Array("first".utf8))
        let opened = try await h.vfs.open(inode, flags: O_WRONLY)
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: 5, bytes: Array(" second".utf8))
        try await h.vfs.release(inode, handle: opened.handle)
        #expect(try await h.serverBytes(inode) == Array("first second".utf8))

        // Changed elsewhere meanwhile: the inline commit is refused like any other.
        let stale = try await h.vfs.open(inode, flags: O_WRONLY)
        let node = h.vfs.inodes.node(of: inode)
        let current = try await h.client.getContent(node)
        _ = try await h.client.commit(node, baseVersion: current.version, size: 0, blocks: [])
        _ = try await h.vfs.write(inode, handle: stale.handle, offset: 0, bytes: [1])
        #expect(await errnoOf { try await h.vfs.flush(inode, handle: stale.handle) } == NetStoreError(.versionConflict, "").code.errno)
        _ = try? await h.vfs.release(inode, handle: stale.handle)
    }

    @Test("a file kept in memory while small moves to disk as it grows, keeping every byte")
    func growsPastMemory() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let all = pattern(200_000, seed: 9)
        let (attributes, opened) = try await h.vfs.create(
            parent: 1, name: "grows", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        let inode = attributes.id
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: 0, bytes: Array(all[0..<1000]))
        _ = try await h.vfs.setattr(inode, SetAttributes(size: 500))
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: 500, bytes: Array(all[500..<60_000]))
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: 60_000, bytes: Array(all[60_000...]))
        #expect(try await h.vfs.read(inode, handle: opened.handle, offset: 0, count: 200_000) == all)
        try await h.vfs.release(inode, handle: opened.handle)
        #expect(try await h.serverBytes(inode) == all)
    }
}
