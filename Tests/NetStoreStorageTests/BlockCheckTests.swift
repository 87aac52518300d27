import Foundation
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Block check and repair")
struct BlockCheckTests {
    /// A file of three blocks, each a file; returns their ids in id order.
    private func threeBlockFile(_ fixture: StoreFixture) throws -> [BlockID] {
        let file = try fixture.file("f")
        try fixture.writeFile(file.id, pattern(2 * Limits.blockSize + 200_000, seed: 3))
        return try fixture.store.content(account: StoreFixture.a, node: file.id).blocks.sorted()
    }

    private func flipByte(_ path: String, at offset: UInt64 = 17) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte ^ 0xFF])
    }

    @Test("a check finds a flipped byte and a deleted file, page by page, in id order")
    func findsDamage() throws {
        try StoreFixture.with { fixture in
            let ids = try threeBlockFile(fixture)
            // An unreferenced block is not checked, damaged or not.
            let loose = try fixture.putBlock(pattern(200_000, seed: 9))
            try FileManager.default.removeItem(atPath: fixture.store.blocks.path(of: loose))
            try flipByte(fixture.store.blocks.path(of: ids[0]))
            try FileManager.default.removeItem(atPath: fixture.store.blocks.path(of: ids[2]))

            let whole = try fixture.store.checkBlocks(after: .hole, limit: 10)
            #expect(whole.checked == 3 && whole.isLast && whole.last == ids[2])
            #expect(whole.corrupt == [ids[0]] && whole.missing == [ids[2]])
            #expect(whole.bytes == UInt64(try fixture.store.getBlock(ids[1]).count), "only the good block's bytes count")

            var pages: [Store.BlockScan] = []
            var after = BlockID.hole
            repeat {
                pages.append(try fixture.store.checkBlocks(after: after, limit: 2))
                after = pages.last!.last
            } while !pages.last!.isLast
            #expect(pages.map(\.checked) == [2, 1])
            #expect(pages.flatMap(\.corrupt) == [ids[0]] && pages.flatMap(\.missing) == [ids[2]])
        }
    }

    @Test("a small block damaged or lost in the database is found by a check and repaired")
    func smallBlockDamage() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(5000, seed: 8)
            let file = try fixture.file("s")
            try fixture.writeFile(file.id, bytes)
            let id = BlockStore.id(of: bytes)
            #expect(try fixture.smallBlocks() == [id])

            try fixture.damageSmallBlock(id)
            #expect(try fixture.store.checkBlocks(after: .hole, limit: 10).corrupt == [id])
            #expect(try bytes.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } == true)
            #expect(try fixture.store.getBlock(id) == bytes)
            #expect(try bytes.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } == false, "a good copy stays")

            try fixture.dropSmallBlock(id)
            #expect(try fixture.store.checkBlocks(after: .hole, limit: 10).missing == [id])
            #expect(try bytes.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } == true)
            #expect(try fixture.store.checkBlocks(after: .hole, limit: 10).corrupt.isEmpty)
            #expect(try fixture.store.getBlock(id) == bytes)
        }
    }

    @Test("a page stops early once its byte budget is spent")
    func byteBudget() throws {
        try StoreFixture.with { fixture in
            let ids = try threeBlockFile(fixture)
            let page = try fixture.store.checkBlocks(after: .hole, limit: 10, byteBudget: 1)
            #expect(page.checked == 1 && !page.isLast && page.last == ids[0])
        }
    }

    @Test("repair replaces a damaged or missing copy, never a good one, and only with the right bytes")
    func repair() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(200_000, seed: 4)
            let file = try fixture.file("g")
            try fixture.writeFile(file.id, bytes)
            let id = BlockStore.id(of: bytes)
            let path = fixture.store.blocks.path(of: id)

            #expect(try bytes.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } == false, "a good copy stays")
            try flipByte(path)
            expectError(.corruptBlock) { _ = try fixture.store.getBlock(id) }
            let wrong = pattern(200_000, seed: 5)
            expectError(.invalid) { _ = try wrong.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } }
            #expect(try bytes.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } == true)
            #expect(try fixture.store.getBlock(id) == bytes)

            try FileManager.default.removeItem(atPath: path)
            #expect(try bytes.withUnsafeBytes { try fixture.store.repairBlock(id, bytes: $0) } == true)
            #expect(try fixture.store.getBlock(id) == bytes)

            let stranger = pattern(10, seed: 6)
            expectError(.noEntry) {
                _ = try stranger.withUnsafeBytes { try fixture.store.repairBlock(BlockStore.id(of: stranger), bytes: $0) }
            }
        }
    }
}
