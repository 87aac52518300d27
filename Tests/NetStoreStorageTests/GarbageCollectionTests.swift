import Foundation
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Shared blocks and garbage collection")
struct GarbageCollectionTests {
    @Test("two files with the same content share one stored block")
    func filesShareBlocks() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(Limits.blockSize + 10, seed: 1)
            let first = try fixture.file("one")
            let second = try fixture.file("two")
            try fixture.writeFile(first.id, bytes)
            try fixture.writeFile(second.id, bytes)
            let ids = try fixture.store.content(account: StoreFixture.a, node: first.id).blocks
            #expect(ids == (try fixture.store.content(account: StoreFixture.a, node: second.id).blocks))
            // The whole first block is a file, the 10-byte tail is kept in the database.
            #expect(try fixture.blockFiles().count == 1 && fixture.smallBlocks() == [ids[1]])
            for id in ids { #expect(try fixture.refs(id) == 2) }

            // A block used twice in one file counts twice.
            let repeated = try fixture.file("three")
            let block = ids[0]
            try fixture.store.commit(account: StoreFixture.a, node: repeated.id, baseVersion: 0,
                                     size: UInt64(2 * Limits.blockSize), blocks: [block, block], now: 11)
            #expect(try fixture.refs(block) == 4)
            try fixture.store.unlink(account: StoreFixture.a, parent: fixture.rootA, name: "three", now: 12)
            #expect(try fixture.refs(block) == 2)
        }
    }

    @Test("the collector removes old unreferenced blocks, keeps referenced and fresh ones")
    func collection() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let used = try fixture.putBlock(pattern(100, seed: 2), now: 100)
            let old = try fixture.putBlock(pattern(100, seed: 3), now: 100)
            let fresh = try fixture.putBlock(pattern(100, seed: 4), now: 1000)
            let file = try fixture.file("f")
            try store.commit(account: StoreFixture.a, node: file.id, baseVersion: 0, size: 100, blocks: [used], now: 200)

            #expect(try store.collectGarbage(storedBefore: 500) == 1)
            #expect(try store.hasBlocks([used, old, fresh], now: 3000) == [true, false, true])
            expectError(.noEntry) { _ = try store.getBlock(old) }
            #expect(try store.getBlock(used) == pattern(100, seed: 2))
            #expect(try fixture.smallBlocks().sorted() == [used, fresh].sorted())

            // A deleted file releases its blocks; they go at the next collection.
            try store.unlink(account: StoreFixture.a, parent: fixture.rootA, name: "f", now: 300)
            #expect(try fixture.refs(used) == 0)
            #expect(try store.collectGarbage(storedBefore: 500) == 1)
            #expect(try store.collectGarbage(storedBefore: 2000) == 1)
            #expect(try fixture.storedBlockCount() == 0)
            #expect(try store.counts().blocks == 0)
        }
    }

    @Test("uploading a block again renews its grace period")
    func reuploadRenewsGrace() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(100, seed: 5)
            let id = try fixture.putBlock(bytes, now: 100)
            try fixture.putBlock(bytes, now: 1000)
            #expect(try fixture.store.collectGarbage(storedBefore: 500) == 0)
            #expect(try fixture.store.getBlock(id) == bytes)
        }
    }

    @Test("a commit after its block was collected fails with missing blocks, and succeeds after a new upload")
    func commitAfterCollection() throws {
        try StoreFixture.with { fixture in
            let bytes = pattern(100, seed: 6)
            let id = try fixture.putBlock(bytes, now: 100)
            #expect(try fixture.store.collectGarbage(storedBefore: 500) == 1)
            let file = try fixture.file("f")
            expectError(.missingBlocks) {
                _ = try fixture.store.commit(account: StoreFixture.a, node: file.id, baseVersion: 0, size: 100, blocks: [id], now: 600)
            }
            try fixture.putBlock(bytes, now: 600)
            try fixture.store.commit(account: StoreFixture.a, node: file.id, baseVersion: 0, size: 100, blocks: [id], now: 600)
            #expect(try fixture.readFile(file.id) == bytes)
        }
    }
}
