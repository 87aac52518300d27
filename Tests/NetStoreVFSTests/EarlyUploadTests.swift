import Foundation
import NetStoreCore
@testable import NetStoreVFS
import Testing

@Suite("Early upload of completed blocks")
struct EarlyUploadTests {
    /// Writes `data` at `offset` in 128 KiB pieces, as the kernel hands a sequential writer's data over.
    static func writeSequentially(_ h: VFSHarness, _ inode: UInt64, _ handle: UInt64, _ data: [UInt8], at offset: Int = 0) async throws {
        var done = 0
        while done < data.count {
            let piece = Array(data[done..<min(data.count, done + (128 << 10))])
            _ = try await h.vfs.write(inode, handle: handle, offset: UInt64(offset + done), bytes: piece)
            done += piece.count
        }
    }

    /// The ids of the whole blocks of `data`, as the file-system layer names them.
    static func blockIDs(_ data: [UInt8], blocks: Range<Int>) -> [BlockID] {
        blocks.map { OpenFile.blockID(of: Array(data[($0 * Limits.blockSize)..<(($0 + 1) * Limits.blockSize)])) }
    }

    /// Polls the server until it has every block in `ids`, or the deadline passes.
    static func serverHas(_ h: VFSHarness, _ ids: [BlockID], within limit: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await h.client.hasBlocks(ids).allSatisfy({ $0 }) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test("a sequential writer's completed blocks reach the server before the file is closed")
    func blocksGoUpWhileWriting() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (file, opened) = try await h.vfs.create(parent: 1, name: "big", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        let data = pattern(8 * Limits.blockSize + 1000, seed: 11)
        try await Self.writeSequentially(h, file.id, opened.handle, data)

        // All eight whole blocks are stored, though nothing is committed yet.
        #expect(try await Self.serverHas(h, Self.blockIDs(data, blocks: 0..<8)))
        #expect(try await h.client.getContent(h.vfs.inodes.node(of: file.id)).size == 0)
        // The partial tail is the commit's to send.
        let tail = OpenFile.blockID(of: Array(data[(8 * Limits.blockSize)...]))
        #expect(try await h.client.hasBlocks([tail]) == [false])

        try await h.vfs.flush(file.id, handle: opened.handle)
        try await h.vfs.release(file.id, handle: opened.handle)
        #expect(try await h.serverBytes(file.id) == data)
    }

    @Test("a block written again after its early upload is committed with its new content")
    func rewrittenBlockCommitsNewContent() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (file, opened) = try await h.vfs.create(parent: 1, name: "f", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        var data = pattern(3 * Limits.blockSize, seed: 12)
        try await Self.writeSequentially(h, file.id, opened.handle, data)
        #expect(try await Self.serverHas(h, Self.blockIDs(data, blocks: 0..<3)))

        // A small change inside block 1, and block 0 overwritten whole.
        let patch = [UInt8](repeating: 0x5A, count: 300)
        _ = try await h.vfs.write(file.id, handle: opened.handle, offset: UInt64(Limits.blockSize + 7), bytes: patch)
        data.replaceSubrange((Limits.blockSize + 7)..<(Limits.blockSize + 307), with: patch)
        let block0 = pattern(Limits.blockSize, seed: 13)
        _ = try await h.vfs.write(file.id, handle: opened.handle, offset: 0, bytes: block0)
        data.replaceSubrange(0..<Limits.blockSize, with: block0)

        try await h.vfs.fsync(file.id, handle: opened.handle)
        let content = try await h.client.getContent(h.vfs.inodes.node(of: file.id))
        #expect(content.blocks == Self.blockIDs(data, blocks: 0..<3))
        #expect(try await h.serverBytes(file.id) == data)
        try await h.vfs.release(file.id, handle: opened.handle)
        #expect(try await h.readFile(file.id) == data)
    }

    @Test("blocks cut by a truncate after their early upload are committed as cut, and zeros read past the cut")
    func truncatedAfterEarlyUpload() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (file, opened) = try await h.vfs.create(parent: 1, name: "f", mode: 0o644, flags: O_RDWR | O_CREAT, context: h.context)
        let data = pattern(4 * Limits.blockSize, seed: 15)
        try await Self.writeSequentially(h, file.id, opened.handle, data)
        #expect(try await Self.serverHas(h, Self.blockIDs(data, blocks: 0..<4)))

        // Cut inside block 1, then extend the file by writing past block 2.
        let cut = Limits.blockSize + 4321
        _ = try await h.vfs.setattr(file.id, SetAttributes(size: UInt64(cut)))
        let tail = pattern(1000, seed: 16)
        _ = try await h.vfs.write(file.id, handle: opened.handle, offset: UInt64(3 * Limits.blockSize), bytes: tail)
        var expected = Array(data[..<cut])
        expected += [UInt8](repeating: 0, count: 3 * Limits.blockSize - cut) + tail

        try await h.vfs.fsync(file.id, handle: opened.handle)
        #expect(try await h.serverBytes(file.id) == expected)
        let content = try await h.client.getContent(h.vfs.inodes.node(of: file.id))
        #expect(content.blocks.first == Self.blockIDs(data, blocks: 0..<1).first)
        #expect(content.blocks.count == 4 && content.blocks[2].isHole)
        try await h.vfs.release(file.id, handle: opened.handle)
        #expect(try await h.readFile(file.id) == expected)
    }

    @Test("a written file up to an eighth of the block cache is kept in it; a bigger one is not")
    func bigWrittenFilesSkipTheCache() async throws {
        let h = try await VFSHarness(cacheLimit: 16 * UInt64(Limits.blockSize))
        defer { Task { await h.close() } }
        let small = pattern(2 * Limits.blockSize, seed: 17)
        let big = pattern(3 * Limits.blockSize, seed: 18)
        _ = try await h.writeFile("small", small)
        let bigInode = try await h.writeFile("big", big)

        #expect(Self.blockIDs(small, blocks: 0..<2).allSatisfy { h.vfs.blocks.contains($0) })
        #expect(!Self.blockIDs(big, blocks: 0..<3).contains { h.vfs.blocks.contains($0) })
        #expect(try await h.readFile(bigInode) == big)
    }

    @Test("a small written block is cached in memory, a full one as a file; both read back with no download")
    func smallBlocksInMemory() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let small = pattern(4096, seed: 21)
        let full = pattern(Limits.blockSize, seed: 22)
        let smallInode = try await h.writeFile("small", small)
        let fullInode = try await h.writeFile("full", full)
        let smallID = OpenFile.blockID(of: small)
        let fullID = OpenFile.blockID(of: full)
        #expect(h.vfs.blocks.contains(smallID) && h.vfs.blocks.contains(fullID))
        let files = try FileManager.default.contentsOfDirectory(atPath: h.vfs.blocks.directory)
        #expect(!files.contains(smallID.hex) && files.contains(fullID.hex), "\(files)")
        var read: [[UInt8]] = []
        let reads = try await h.requests {
            read = [try await h.readFile(smallInode), try await h.readFile(fullInode)]
        }
        #expect(read == [small, full])
        #expect(reads["getBlock"] == nil, "\(reads)")
    }

    @Test("early uploads failing against a stopped server do not fail writes; fsync reports the error", .timeLimit(.minutes(1)))
    func failedEarlyUploadsReportAtFsync() async throws {
        let h = try await VFSHarness()
        defer { Task { await h.close() } }
        let (file, opened) = try await h.vfs.create(parent: 1, name: "f", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        let data = pattern(4 * Limits.blockSize, seed: 14)
        try await Self.writeSequentially(h, file.id, opened.handle, Array(data[..<Limits.blockSize]))
        h.server.shutdown()
        _ = try? await h.serving.value
        // The rest is written while every early upload fails.
        try await Self.writeSequentially(h, file.id, opened.handle, Array(data[Limits.blockSize...]), at: Limits.blockSize)
        #expect(await errnoOf { try await h.vfs.fsync(file.id, handle: opened.handle) } != nil)
        #expect(await errnoOf { try await h.vfs.release(file.id, handle: opened.handle) } != nil)
    }
}
