import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

@Suite("Small files read with their content")
struct InlineReadTests {
    @Test("opening a small file written elsewhere brings its block: reading it makes no GET_BLOCK; a larger file's block is fetched")
    func smallFileNeedsNoBlockRequest() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let root = h.vfs.inodes.rootNode
        let small = pattern(Limits.inlineContentLimit, seed: 21)
        let large = pattern(Limits.inlineContentLimit + 1, seed: 22)
        // Written by another client, so this mount's cache holds neither block.
        for (name, bytes) in [("small", small), ("large", large)] {
            let made = try await h.client.create(parent: root, name: name, mode: 0o644, uid: 0, gid: 0)
            _ = try await h.client.commitInline(made.id, baseVersion: made.version, bytes: bytes)
        }
        let smallInode = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "small").id
        let largeInode = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "large").id

        var read: [UInt8] = []
        let smallRequests = try await h.requests { read = try await h.readFile(smallInode) }
        #expect(read == small)
        #expect(smallRequests["getContentInline"] == 1 && smallRequests["getBlock"] == nil, "\(smallRequests)")

        let largeRequests = try await h.requests { read = try await h.readFile(largeInode) }
        #expect(read == large)
        #expect(largeRequests["getContentInline"] == 1 && largeRequests["getBlock"] == 1, "\(largeRequests)")
    }
}
