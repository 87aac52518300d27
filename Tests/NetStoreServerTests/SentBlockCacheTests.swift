import Foundation
import Logging
import NetStoreCore
import NetStoreStorage
import Testing
@testable import NetStoreServer

@Suite("Blocks kept for the backups' senders leave once every sender has taken them")
struct SentBlockCacheTests {
    static func block(_ fill: UInt8, count: Int = 1000) -> (id: BlockID, bytes: [UInt8]) {
        let bytes = [UInt8](repeating: fill, count: count)
        return (BlockStore.id(of: bytes), bytes)
    }

    static func withStore(_ body: (Store) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(try Store(directory: directory, logger: Logger(label: "test")))
    }

    @Test("a remembered block is held until each sender took it; then it comes from the store again")
    func takenByEverySender() throws {
        try Self.withStore { store in
            let cache = SentBlockCache(takers: 2)
            let (id, bytes) = Self.block(1)
            cache.remember(id, bytes: bytes)
            #expect(cache.heldBytes == bytes.count)
            #expect(try cache.bytes(of: id, in: store) == bytes)  // not in the store: from the cache
            #expect(cache.heldBytes == bytes.count)
            #expect(try cache.bytes(of: id, in: store) == bytes)
            #expect(cache.heldBytes == 0)
            #expect(throws: NetStoreError.self) { try cache.bytes(of: id, in: store) }

            // Read from the store for one sender: kept for the other one only.
            try store.putHashedSmallBlocks([(id, bytes)], now: 1)
            #expect(try cache.bytes(of: id, in: store) == bytes)
            #expect(cache.heldBytes == bytes.count)
            _ = try cache.bytes(of: id, in: store)
            #expect(cache.heldBytes == 0)
        }
    }

    @Test("the same block carried twice is held for both; blocks no sender takes go, oldest first, beyond the capacity")
    func repeatsAndCapacity() throws {
        try Self.withStore { store in
            let cache = SentBlockCache(takers: 1, capacityBytes: 3000)
            let (id, bytes) = Self.block(1)
            cache.remember(id, bytes: bytes)
            cache.remember(id, bytes: bytes)
            _ = try cache.bytes(of: id, in: store)
            #expect(cache.heldBytes == bytes.count)
            _ = try cache.bytes(of: id, in: store)
            #expect(cache.heldBytes == 0)

            let blocks = (2...5).map { Self.block(UInt8($0)) }
            for block in blocks { cache.remember(block.id, bytes: block.bytes) }
            #expect(cache.heldBytes == 3000)
            #expect(throws: NetStoreError.self) { try cache.bytes(of: blocks[0].id, in: store) }
            for block in blocks.dropFirst() { #expect(try cache.bytes(of: block.id, in: store) == block.bytes) }
            #expect(cache.heldBytes == 0)
        }
    }
}
