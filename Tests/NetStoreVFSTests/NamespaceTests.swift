import Foundation
import NetStoreCore
import NetStoreVFS
import Testing

@Suite("Namespace through the file-system layer")
struct NamespaceTests {
    @Test("errors arrive as the errno a program expects")
    func errors() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        try await h.writeFile("f", [1])
        _ = try await vfs.create(parent: dir.id, name: "inner", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        #expect(await errnoOf { _ = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context) } == EEXIST)
        #expect(await errnoOf { try await vfs.rmdir(parent: 1, name: "d") } == ENOTEMPTY)
        #expect(await errnoOf { try await vfs.unlink(parent: 1, name: "nope") } == ENOENT)
        #expect(await errnoOf { _ = try await vfs.create(parent: 1, name: "f", mode: 0o644, flags: O_WRONLY | O_CREAT | O_EXCL, context: h.context) } == EEXIST)
        #expect(await errnoOf { _ = try await vfs.lookup(parent: 1, name: String(repeating: "x", count: 256)) } == ENAMETOOLONG)
        #expect(await errnoOf { try await vfs.rename(parent: 1, name: "f", newParent: 1, newName: "d", flags: []) } != nil)
        #expect(await errnoOf { _ = try await vfs.mknod(parent: 1, name: "dev", kind: .directory, mode: 0o644, context: h.context) } == EPERM)
    }

    @Test("unlink and rmdir bring the directory's new attributes: the getattr that follows makes no request")
    func removalAnswersWithTheDirectory() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        _ = try await vfs.mkdir(parent: dir.id, name: "sub", mode: 0o755, context: h.context)
        try await h.writeFile("f", [1])
        let before = try await vfs.getattr(dir.id)
        #expect(before.nlink == 3)

        var after: [NodeAttributes] = []
        let made = try await h.requests {
            try await vfs.rmdir(parent: dir.id, name: "sub")
            after.append(try await vfs.getattr(dir.id))
            try await vfs.unlink(parent: 1, name: "f")
            after.append(try await vfs.getattr(1))
        }
        #expect(made == ["rmdir": 1, "unlink": 1], "\(made)")
        // The cached answers are the server's.
        let node = vfs.inodes.node(of: dir.id)
        var stored = try await h.client.getattr(node)
        stored.id = dir.id
        #expect(after[0] == stored && after[0].nlink == 2 && after[0].mtimeNs >= before.mtimeNs)
        var root = try await h.client.getattr(vfs.inodes.rootNode)
        root.id = 1
        #expect(after[1] == root)
    }

    @Test("rename moves, refuses to replace with NOREPLACE, and swaps with EXCHANGE")
    func rename() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let a = try await h.writeFile("a", Array("A".utf8))
        let b = try await h.writeFile("b", Array("B".utf8))
        let dir = try await vfs.mkdir(parent: 1, name: "d", mode: 0o755, context: h.context)
        #expect(await errnoOf { try await vfs.rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: .noReplace) } == EEXIST)
        try await vfs.rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: .exchange)
        #expect(try await vfs.lookup(parent: 1, name: "a").id == b)
        #expect(try await vfs.lookup(parent: 1, name: "b").id == a)
        try await vfs.rename(parent: 1, name: "a", newParent: dir.id, newName: "moved", flags: [])
        #expect(try await h.readFile(try await vfs.lookup(parent: dir.id, name: "moved").id) == Array("B".utf8))
        #expect(await errnoOf { _ = try await vfs.lookup(parent: 1, name: "a") } == ENOENT)
    }

    @Test("readdir lists dots then entries, resumes from any offset, and restarts at 0")
    func readdir() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let names = (0..<25).map { String(format: "n%02d", $0) }
        for name in names { _ = try await vfs.mkdir(parent: 1, name: name, mode: 0o755, context: h.context) }
        let handle = try await vfs.opendir(1)
        var seen: [String] = []
        var offset: Int64 = 0
        while true {
            let items = try await vfs.readdir(1, handle: handle, offset: offset, limit: 7)
            guard let last = items.last else { break }
            seen += items.map(\.name)
            offset = last.offset
        }
        #expect(seen == [".", ".."] + names)
        let again = try await vfs.readdir(1, handle: handle, offset: 0, limit: 3)
        #expect(again.map(\.name) == [".", "..", "n00"])
        vfs.releasedir(handle)
        #expect(vfs.openHandleCount == 0)
    }

    @Test("chmod, chown and times are stored; a set mtime survives the close that follows")
    func attributes() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let vfs = h.vfs
        let (file, opened) = try await vfs.create(parent: 1, name: "f", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        _ = try await vfs.write(file.id, handle: opened.handle, offset: 0, bytes: [1, 2, 3])
        let stamp: Int64 = 1_000_000_000_123_456_789
        let changed = try await vfs.setattr(file.id, SetAttributes(mode: 0o600, uid: 7, gid: 8, atime: .nanoseconds(stamp), mtime: .nanoseconds(stamp)))
        #expect(changed.mode == 0o600 && changed.uid == 7 && changed.gid == 8 && changed.mtimeNs == stamp && changed.size == 3)
        try await vfs.flush(file.id, handle: opened.handle)
        try await vfs.release(file.id, handle: opened.handle)
        let stored = try await h.client.getattr(vfs.inodes.node(of: file.id))
        #expect(stored.mtimeNs == stamp && stored.atimeNs == stamp && stored.size == 3)
    }

    @Test("read-ahead fills the block cache for a sequential reader")
    func readAhead() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let data = pattern(6 * Limits.blockSize, seed: 4)
        let inode = try await h.writeFile("f", data)
        let (other, blocks) = try await h.coldLayer("cold", readAheadBlocks: 4)
        let opened = try await other.open(inode, flags: O_RDONLY)
        #expect(try await other.read(inode, handle: opened.handle, offset: 0, count: 4096) == Array(data[..<4096]))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        var count = 0
        while clock.now < deadline {
            count = try h.storedBlocks(in: blocks).count
            if count >= 5 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(count >= 5, "block 0 and four blocks ahead are cached")
        let all = try await h.readFile(inode)
        #expect(all == data)
        try await other.release(inode, handle: opened.handle)
    }

    @Test("a block just fetched is read from memory: reads within it and across blocks need neither its file nor a download")
    func fetchedBlocksReadFromMemory() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let data = pattern(3 * Limits.blockSize, seed: 5)
        let inode = try await h.writeFile("f", data)
        let (other, blocks) = try await h.coldLayer("cold-memory", readAheadBlocks: 0)
        let opened = try await other.open(inode, flags: O_RDONLY)
        let size = Limits.blockSize
        #expect(try await other.read(inode, handle: opened.handle, offset: 0, count: 2 * size) == Array(data[..<(2 * size)]))
        // The files go; the blocks fetched last are still read, with no request.
        for name in try FileManager.default.contentsOfDirectory(atPath: blocks.path) {
            try FileManager.default.removeItem(at: blocks.appendingPathComponent(name))
        }
        var within: [UInt8] = []
        var across: [UInt8] = []
        let reads = try await h.requests {
            within = try await other.read(inode, handle: opened.handle, offset: 4096, count: 128 << 10)
            across = try await other.read(inode, handle: opened.handle, offset: UInt64(size - 100), count: 200)
        }
        #expect(within == Array(data[4096..<(4096 + (128 << 10))]))
        #expect(across == Array(data[(size - 100)..<(size + 100)]))
        #expect(reads["getBlock"] == nil, "\(reads)")
        try await other.release(inode, handle: opened.handle)
    }

    @Test("a file larger than an eighth of the cache read from start to end passes through memory: no block of it is stored, none fetched twice")
    func sequentialScanNotCached() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let data = pattern(6 * Limits.blockSize, seed: 6)
        let inode = try await h.writeFile("big", data)
        // An eighth of 4 MiB is less than the 6 MiB file.
        let (other, blocks) = try await h.coldLayer("scan", readAheadBlocks: 2, cacheLimit: 4 << 20)
        let opened = try await other.open(inode, flags: O_RDONLY)
        var read: [UInt8] = []
        let chunk = 128 << 10
        let requests = try await h.requests {
            while read.count < data.count {
                read += try await other.read(inode, handle: opened.handle, offset: UInt64(read.count), count: chunk)
            }
        }
        #expect(read == data)
        #expect(requests["getBlock"] == 6, "each block fetched once: \(requests)")
        let stored = try h.storedBlocks(in: blocks)
        #expect(stored.isEmpty, "\(stored)")
        try await other.release(inode, handle: opened.handle)
    }

    @Test("three sequential readers of files larger than an eighth of the cache, read-ahead 8: each block is fetched once")
    func interleavedScansFetchOnce() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let blocks = 12
        var files: [(inode: UInt64, data: [UInt8])] = []
        for seed in 1...3 {
            let data = pattern(blocks * Limits.blockSize, seed: UInt64(20 + 2 * seed))
            files.append((try await h.writeFile("big\(seed)", data), data))
        }
        let (other, _) = try await h.coldLayer("scans", readAheadBlocks: 8, cacheLimit: 8 << 20)
        var handles: [UInt64] = []
        for file in files { handles.append(try await other.open(file.inode, flags: O_RDONLY).handle) }
        var read = Array(repeating: [UInt8](), count: files.count)
        let chunk = 128 << 10
        let requests = try await h.requests {
            // In turns, as three programs copying three files at once would.
            while read[0].count < files[0].data.count {
                for (index, file) in files.enumerated() {
                    read[index] += try await other.read(file.inode, handle: handles[index], offset: UInt64(read[index].count), count: chunk)
                }
            }
        }
        for (index, file) in files.enumerated() {
            #expect(read[index] == file.data)
            try await other.release(file.inode, handle: handles[index])
        }
        #expect(requests["getBlock"] == files.count * blocks, "\(requests)")
    }

    @Test("a block the cache cannot store (its directory gone, a full disk) is still read")
    func unstorableBlockRead() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let data = pattern(2 * Limits.blockSize + 5, seed: 8)
        let inode = try await h.writeFile("f", data)
        let (other, blocks) = try await h.coldLayer("unstorable", readAheadBlocks: 0)
        try FileManager.default.removeItem(at: blocks)
        try Data("not a directory".utf8).write(to: blocks)
        let opened = try await other.open(inode, flags: O_RDONLY)
        let offset = Limits.blockSize + 7
        #expect(try await other.read(inode, handle: opened.handle, offset: UInt64(offset), count: 4096) == Array(data[offset..<(offset + 4096)]))
        try await other.release(inode, handle: opened.handle)
    }

    @Test("blocks a reader jumps to are cached, also of a file larger than an eighth of the cache")
    func randomReadsCached() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let size = Limits.blockSize
        let data = pattern(6 * size, seed: 7)
        let inode = try await h.writeFile("big", data)
        let (other, blocks) = try await h.coldLayer("jumps", readAheadBlocks: 2, cacheLimit: 4 << 20)
        let opened = try await other.open(inode, flags: O_RDONLY)
        for index in [4, 1] {
            let offset = index * size + 100
            #expect(try await other.read(inode, handle: opened.handle, offset: UInt64(offset), count: 4096) == Array(data[offset..<(offset + 4096)]))
        }
        let stored = try h.storedBlocks(in: blocks)
        #expect(stored.count == 2, "\(stored)")
        try await other.release(inode, handle: opened.handle)
    }
}
