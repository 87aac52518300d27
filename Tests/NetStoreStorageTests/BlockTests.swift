import Foundation
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Blocks on disk")
struct BlockTests {
    @Test("a block's id is the SHA-256 of its bytes")
    func idIsSHA256() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        #expect(BlockStore.id(of: Array("abc".utf8)).hex
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a stored block reads back and sits under blocks/ab/, whose 256 directories exist from the start")
    func roundTrip() throws {
        try StoreFixture.with { fixture in
            let root = fixture.directory.appendingPathComponent("blocks").path
            let directories = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0 != "tmp" }
            #expect(directories.count == 256 && directories.allSatisfy { $0.count == 2 })
            let bytes = pattern(200_000, seed: 1)
            let id = try fixture.putBlock(bytes)
            #expect(try fixture.store.getBlock(id) == bytes)
            let hex = id.hex
            #expect(fixture.blockFiles() == ["\(hex.prefix(2))/\(hex)"])
            #expect(try fixture.store.hasBlocks([id, BlockID.hole, BlockStore.id(of: [1, 2, 3])], now: 1) == [true, true, false])
        }
    }

    @Test("a large block's whole pages and its tail (written apart: the pages past the page cache) read back whole",
          arguments: [131_073, 135_168, 200_001, 1_048_575, 1_048_576])
    func pagesAndTail(size: Int) throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(size, seed: size)
            let id = try fixture.putBlock(bytes)
            let hex = id.hex
            let path = fixture.directory.appendingPathComponent("blocks/\(hex.prefix(2))/\(hex)").path
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
            #expect(try fixture.store.getBlock(id) == bytes)
        }
    }

    @Test("a block a store kept under blocks/ab/cd/ before is found, read, stored again in place and removed")
    func legacyLayout() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(4096, seed: 9)
            let id = BlockStore.id(of: bytes)
            let hex = id.hex
            let legacy = fixture.directory.appendingPathComponent("blocks/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))")
            try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
            try Data(bytes).write(to: legacy.appendingPathComponent(hex))
            let blocks = fixture.store.blocks
            #expect(blocks.contains(id))
            #expect(try blocks.read(id) == bytes)
            // Present already: no second copy is written.
            try bytes.withUnsafeBytes { try blocks.write(id, bytes: $0) }
            #expect(fixture.blockFiles() == ["\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"])
            try blocks.remove(id)
            #expect(!blocks.contains(id))
            #expect(fixture.blockFiles().isEmpty)
        }
    }

    @Test("storing the same block twice keeps one copy and one row, small (in the database) or not (a file)", arguments: [5000, 200_000])
    func dedupOnDisk(size: Int) throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(size, seed: 2)
            let first = try fixture.putBlock(bytes, now: 10)
            let second = try fixture.putBlock(bytes, now: 20)
            #expect(first == second)
            #expect(try fixture.storedBlockCount() == 1)
            #expect(fixture.blockFiles().count == (size <= Store.smallBlockLimit ? 0 : 1))
            #expect(try fixture.store.counts().blocks == 1)
            #expect(try fixture.store.counts().blockBytes == UInt64(size))
        }
    }

    @Test("a small block is kept in the database, not as a file; damage there is reported, never served, and mended by storing it again")
    func smallBlockInDatabase() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(Store.smallBlockLimit, seed: 31)
            let id = try fixture.putBlock(bytes)
            #expect(fixture.blockFiles().isEmpty)
            #expect(try fixture.smallBlocks() == [id])
            #expect(try fixture.store.getBlock(id) == bytes)
            #expect(try fixture.store.hasBlocks([id], now: 20) == [true])

            try fixture.damageSmallBlock(id)
            let error = expectError(.corruptBlock) { _ = try fixture.store.getBlock(id) }
            #expect(error?.message.contains("block \(id.hex) failed its hash check") == true)
            try fixture.putBlock(bytes)
            #expect(try fixture.store.getBlock(id) == bytes)

            // One byte more is a file.
            try fixture.putBlock(pattern(Store.smallBlockLimit + 1, seed: 32))
            #expect(try fixture.blockFiles().count == 1 && fixture.smallBlocks() == [id])
        }
    }

    @Test("small blocks hashed by the caller are stored together in the database (the same one twice is one row); one too large for it is refused and nothing is stored")
    func hashedSmallBlocks() throws {
        try StoreFixture.with { fixture in
            let contents = [pattern(10, seed: 1), pattern(Store.smallBlockLimit, seed: 2), pattern(10, seed: 1)]
            let blocks = contents.map { (id: BlockStore.id(of: $0), bytes: $0) }
            try fixture.store.putHashedSmallBlocks(blocks, now: 5)
            #expect(try Set(fixture.smallBlocks()) == Set(blocks.map(\.id)) && fixture.smallBlocks().count == 2)
            for block in blocks { #expect(try fixture.store.getBlock(block.id) == block.bytes) }
            #expect(fixture.blockFiles().isEmpty)

            let large = pattern(Store.smallBlockLimit + 1, seed: 3)
            let fresh = pattern(20, seed: 4)
            expectError(.invalid) {
                try fixture.store.putHashedSmallBlocks([(BlockStore.id(of: fresh), fresh), (BlockStore.id(of: large), large)], now: 6)
            }
            #expect(try fixture.store.hasBlocks([BlockStore.id(of: fresh)], now: 7) == [false])
        }
    }

    @Test("small blocks written with log entries are in the same transaction; a block too large for the database refuses the whole write")
    func blocksWithLogEntries() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(100, seed: 7)
            let id = BlockStore.id(of: bytes)
            try fixture.store.writeLog(truncatingFrom: nil, entries: [StoredLogEntry(index: 1, term: 1, payload: [])],
                                       blocks: [(id, bytes)], now: 5)
            #expect(try fixture.store.getBlock(id) == bytes)
            #expect(try fixture.smallBlocks() == [id])
            #expect(try fixture.store.loadReplicationState().entries.map(\.index) == [1])

            let large = pattern(Store.smallBlockLimit + 1, seed: 8)
            let fresh = pattern(30, seed: 9)
            expectError(.invalid) {
                try fixture.store.writeLog(truncatingFrom: nil, entries: [StoredLogEntry(index: 2, term: 1, payload: [])],
                                           blocks: [(BlockStore.id(of: fresh), fresh), (BlockStore.id(of: large), large)], now: 6)
            }
            #expect(try fixture.store.loadReplicationState().entries.map(\.index) == [1])
            #expect(try fixture.store.hasBlocks([BlockStore.id(of: fresh)], now: 7) == [false])
        }
    }

    @Test("a flipped byte on disk is reported as corruption, never served")
    func corruption() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(200_000, seed: 3)
            let id = try fixture.putBlock(bytes)
            let path = fixture.store.blocks.path(of: id)
            var onDisk = try #require(FileManager.default.contents(atPath: path))
            onDisk[1234] ^= 0x01
            try onDisk.write(to: URL(fileURLWithPath: path))

            let error = expectError(.corruptBlock) { _ = try fixture.store.getBlock(id) }
            #expect(error?.message.contains("block \(id.hex) failed its hash check") == true)
            expectError(.corruptBlock) { _ = try fixture.store.blocks.read(id) }

            // A truncated file is caught the same way.
            try Data(onDisk.prefix(100)).write(to: URL(fileURLWithPath: path))
            expectError(.corruptBlock) { _ = try fixture.store.getBlock(id) }
        }
    }

    @Test("a damaged block file is repaired by storing the block again")
    func repairByRewrite() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(200_000, seed: 4)
            let id = try fixture.putBlock(bytes)
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: fixture.store.blocks.path(of: id)))
            try fixture.putBlock(bytes)
            #expect(try fixture.store.getBlock(id) == bytes)
        }
    }

    @Test("a block file left without its row (a kill between file and row) counts as held once its hash checks, and becomes collectable; a damaged one does not")
    func fileWithoutRowIsAdopted() throws {
        try StoreFixture.with { fixture in
            let good = pattern(4096, seed: 21)
            let bad = pattern(4096, seed: 22)
            let goodID = BlockStore.id(of: good)
            let badID = BlockStore.id(of: bad)
            for (id, bytes) in [(goodID, good), (badID, Array(bad.dropLast()))] {
                let path = fixture.store.blocks.path(of: id)
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            }
            #expect(try fixture.store.hasBlocks([goodID, badID], now: 100) == [true, false])
            #expect(try fixture.store.hasBlocks([goodID], now: 150) == [true])
            #expect(try fixture.store.getBlock(goodID) == good)
            // Recorded with no references: the collector may take it.
            #expect(try fixture.store.collectGarbage(storedBefore: 200) == 1)
            #expect(try fixture.store.hasBlocks([goodID], now: 300) == [false])
        }
    }

    @Test("a block whose bytes do not match its id, or that is too big, is refused and not stored")
    func invalidBlocks() throws {
        try StoreFixture.with { (fixture) throws in
            let bytes = pattern(1000, seed: 5)
            let wrong = BlockStore.id(of: pattern(1000, seed: 6))
            let error = expectError(.invalid) {
                try bytes.withUnsafeBytes { try fixture.store.putBlock(wrong, bytes: $0, now: 1) }
            }
            #expect(error?.message.contains(wrong.hex) == true)

            let big = [UInt8](repeating: 7, count: Limits.maxBlockSize + 1)
            expectError(.invalid) {
                try big.withUnsafeBytes { try fixture.store.putBlock(BlockStore.id(of: big), bytes: $0, now: 1) }
            }
            #expect(fixture.blockFiles().isEmpty)
            #expect(try fixture.store.counts().blocks == 0)
        }
    }

    @Test("a block that is not stored is ENOENT; a hole reads as nothing")
    func absentAndHole() throws {
        try StoreFixture.with { (fixture) throws in
            expectError(.noEntry) { _ = try fixture.store.getBlock(BlockStore.id(of: [9])) }
            #expect(try fixture.store.getBlock(.hole) == [])
        }
    }

    @Test("asking about too many blocks at once is refused")
    func hasBlocksLimit() throws {
        try StoreFixture.with { fixture in
            let ids = [BlockID](repeating: BlockStore.id(of: [1]), count: Limits.maxHashesPerQuery + 1)
            expectError(.invalid) { _ = try fixture.store.hasBlocks(ids, now: 1) }
        }
    }
}
