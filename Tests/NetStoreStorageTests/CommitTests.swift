import Dispatch
import Foundation
import NetStoreCore
import NetStoreStorage
import Synchronization
import Testing

@Suite("Content commits")
struct CommitTests {
    @Test("a commit swaps in the new block list, size and version, and moves times")
    func commitReplacesContent() throws {
        try StoreFixture.with { fixture in
            let file = try fixture.file("f", now: 5)
            #expect(file.version == 0 && file.size == 0)
            let first = pattern(Limits.blockSize + 1000, seed: 1)
            let attributes = try fixture.writeFile(file.id, first, now: 20)
            #expect(attributes.version == 1)
            #expect(attributes.size == UInt64(first.count))
            #expect(attributes.mtimeNs == 20 && attributes.ctimeNs == 20)
            #expect(try fixture.readFile(file.id) == first)

            let second = pattern(3000, seed: 2)
            #expect(try fixture.writeFile(file.id, second, now: 30).version == 2)
            #expect(try fixture.readFile(file.id) == second)
            // The first version's blocks are no longer referenced.
            for id in try fixture.putBlocks(first) { #expect(try fixture.refs(id) == 0) }
        }
    }

    @Test("a failing commit changes nothing: version conflict, missing block, bad sizes, wrong kind")
    func failingCommitLeavesOldVersion() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let file = try fixture.file("f")
            let old = pattern(2 * Limits.blockSize, seed: 3)
            try fixture.writeFile(file.id, old, now: 20)
            let before = try store.content(account: a, node: file.id)
            let oldIDs = before.blocks

            let fresh = try fixture.putBlock(pattern(10, seed: 4))
            let conflict = expectError(.versionConflict) {
                _ = try store.commit(account: a, node: file.id, baseVersion: 0, size: 10, blocks: [fresh], now: 30)
            }
            #expect(conflict?.message.contains("version 1") == true)

            let absent = BlockStore.id(of: pattern(10, seed: 5))
            let missing = expectError(.missingBlocks) {
                _ = try store.commit(account: a, node: file.id, baseVersion: 1, size: 2 * UInt64(Limits.blockSize),
                                     blocks: [fresh, absent], now: 30)
            }
            #expect(missing?.message.contains("1 of the 2 blocks") == true)
            #expect(missing?.message.contains("upload them first") == true)

            expectError(.invalid) {
                _ = try store.commit(account: a, node: file.id, baseVersion: 1, size: 10, blocks: [fresh, fresh], now: 30)
            }
            expectError(.fileTooBig) {
                _ = try store.commit(account: a, node: file.id, baseVersion: 1, size: Limits.maxFileSize + 1, blocks: [], now: 30)
            }

            #expect(try store.content(account: a, node: file.id) == before)
            #expect(try store.getattr(account: a, node: file.id).mtimeNs == 20)
            #expect(try fixture.readFile(file.id) == old)
            for id in oldIDs { #expect(try fixture.refs(id) == 1) }
            #expect(try fixture.refs(fresh) == 0)

            let directory = try fixture.dir("d")
            expectError(.isDirectory) {
                _ = try store.commit(account: a, node: directory.id, baseVersion: 0, size: 0, blocks: [], now: 30)
            }
            let link = try store.symlink(account: a, parent: fixture.rootA, name: "l", target: "f", uid: 0, gid: 0, now: 30)
            expectError(.invalid) {
                _ = try store.commit(account: a, node: link.id, baseVersion: 0, size: 0, blocks: [], now: 30)
            }
            expectError(.isDirectory) { _ = try store.content(account: a, node: directory.id) }
        }
    }

    @Test("holes and short blocks read as zeros up to the size")
    func holesReadAsZeros() throws {
        try StoreFixture.with { fixture in
            let file = try fixture.file("sparse")
            let tail = try fixture.putBlock([1, 2, 3])
            let size = UInt64(Limits.blockSize * 2 + 10)
            try fixture.store.commit(account: StoreFixture.a, node: file.id, baseVersion: 0, size: size,
                                     blocks: [.hole, tail], now: 9)
            let bytes = try fixture.readFile(file.id)
            var expected = [UInt8](repeating: 0, count: Int(size))
            expected[Limits.blockSize ..< Limits.blockSize + 3] = [1, 2, 3]
            #expect(bytes == expected)
            #expect(try fixture.refs(tail) == 1)
        }
    }

    @Test("readers see the old or the new version whole, never a mix")
    func readersSeeWholeVersions() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let file = try fixture.file("f")
            // Odd versions hold list A (3 blocks), even versions list B (1 block, other size).
            let listA = try fixture.putBlocks(pattern(2 * Limits.blockSize + 7, seed: 6))
            let listB = try fixture.putBlocks(pattern(123, seed: 7))
            let sizeA = UInt64(2 * Limits.blockSize + 7)
            let sizeB: UInt64 = 123
            let commits = 200
            let done = Atomic<Bool>(false)
            let bad = Mutex<[String]>([])
            let reads = Atomic<Int>(0)
            let readerFinished = DispatchSemaphore(value: 0)

            let reader = Thread {
                defer { readerFinished.signal() }
                while !done.load(ordering: .acquiring) {
                    do {
                        let content = try store.content(account: a, node: file.id)
                        reads.add(1, ordering: .relaxed)
                        let ok = switch content.version {
                        case 0: content.size == 0 && content.blocks.isEmpty
                        case let v where v % 2 == 1: content.size == sizeA && content.blocks == listA
                        default: content.size == sizeB && content.blocks == listB
                        }
                        if !ok { bad.withLock { $0.append("mixed state at version \(content.version)") } }
                    } catch {
                        bad.withLock { $0.append("read failed: \(error)") }
                    }
                }
            }
            reader.start()
            // Start committing once the reader runs (bounded wait).
            let deadline = Date().addingTimeInterval(10)
            while reads.load(ordering: .relaxed) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            let readsBefore = reads.load(ordering: .relaxed)
            for version in 0 ..< UInt64(commits) {
                let odd = version % 2 == 0
                try store.commit(account: a, node: file.id, baseVersion: version,
                                 size: odd ? sizeA : sizeB, blocks: odd ? listA : listB, now: Int64(version) + 100)
            }
            done.store(true, ordering: .releasing)
            readerFinished.wait()

            #expect(bad.withLock { $0 } == [])
            #expect(readsBefore > 0 && reads.load(ordering: .relaxed) > readsBefore)
            #expect(try store.content(account: a, node: file.id).version == UInt64(commits))
            // The last version (even) holds list B.
            for id in listB { #expect(try fixture.refs(id) == 1) }
            for id in listA { #expect(try fixture.refs(id) == 0) }
        }
    }

    @Test("truncating and extending reads zeros past the cut, and bumps the version")
    func truncateAndExtend() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let file = try fixture.file("t")
            let bytes = pattern(Limits.blockSize * 5 / 2, seed: 8)
            try fixture.writeFile(file.id, bytes, now: 20)

            // Shrink inside the second block.
            let cut = UInt64(Limits.blockSize * 3 / 2)
            var attributes = try store.setattr(account: a, node: file.id, changes: SetAttributes(size: cut), now: 30)
            #expect(attributes.size == cut && attributes.version == 2)
            #expect(attributes.mtimeNs == 30 && attributes.ctimeNs == 30)
            #expect(try fixture.readFile(file.id) == Array(bytes.prefix(Int(cut))))
            #expect(try store.content(account: a, node: file.id).blocks.count == 2)

            // Extend: the old bytes past the cut must not come back.
            let extended = UInt64(Limits.blockSize * 3)
            attributes = try store.setattr(account: a, node: file.id, changes: SetAttributes(size: extended), now: 40)
            #expect(attributes.size == extended && attributes.version == 3 && attributes.mtimeNs == 40)
            var expected = Array(bytes.prefix(Int(cut)))
            expected += [UInt8](repeating: 0, count: Int(extended - cut))
            #expect(try fixture.readFile(file.id) == expected)

            // Shrink to a block boundary, then to zero.
            attributes = try store.setattr(account: a, node: file.id, changes: SetAttributes(size: UInt64(Limits.blockSize)), now: 50)
            #expect(try fixture.readFile(file.id) == Array(bytes.prefix(Limits.blockSize)))
            attributes = try store.setattr(account: a, node: file.id, changes: SetAttributes(size: 0), now: 60)
            #expect(attributes.size == 0 && attributes.version == 5)
            #expect(try store.content(account: a, node: file.id).blocks.isEmpty)
            // Nothing refers to any block any more.
            let counted = try store.database.read { db in try Int.fetchOne(db, sql: "SELECT SUM(refs) FROM blocks") }
            #expect(counted == 0)
        }
    }

    @Test("a committed block longer than the size is cut before an extension reveals it")
    func extendHidesBytesPastOldSize() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let file = try fixture.file("t")
            let block = try fixture.putBlock(pattern(1000, seed: 9))
            try store.commit(account: StoreFixture.a, node: file.id, baseVersion: 0, size: 10, blocks: [block], now: 20)
            _ = try store.setattr(account: StoreFixture.a, node: file.id, changes: SetAttributes(size: 1000), now: 30)
            #expect(try fixture.readFile(file.id) == Array(pattern(1000, seed: 9).prefix(10)) + [UInt8](repeating: 0, count: 990))
        }
    }

    @Test("setattr size on a directory is EISDIR, on a FIFO EINVAL, past the limit EFBIG")
    func sizeOnOtherKinds() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let directory = try fixture.dir("d")
            let fifo = try store.mknod(account: a, parent: fixture.rootA, name: "p", kind: .fifo, mode: 0o600, uid: 0, gid: 0, now: 5)
            let file = try fixture.file("f")
            expectError(.isDirectory) { _ = try store.setattr(account: a, node: directory.id, changes: SetAttributes(size: 0), now: 6) }
            expectError(.invalid) { _ = try store.setattr(account: a, node: fifo.id, changes: SetAttributes(size: 0), now: 6) }
            expectError(.fileTooBig) {
                _ = try store.setattr(account: a, node: file.id, changes: SetAttributes(size: Limits.maxFileSize + 1), now: 6)
            }
            #expect(try store.getattr(account: a, node: file.id).ctimeNs == 5)
        }
    }
}
