import Foundation
import GRDB
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Persistence and determinism")
struct PersistenceTests {
    @Test("reopening the store keeps the tree, content and blocks, and clears leftover temporary files")
    func reopen() throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = pattern(Limits.blockSize + 5, seed: 1)
        var roots: (NodeID, NodeID) = (0, 0)
        var expected: [DirectoryEntry] = []
        var fileID: NodeID = 0
        do {
            let fixture = try StoreFixture(directory: directory)
            roots = (fixture.rootA, fixture.rootB)
            let sub = try fixture.dir("sub")
            fileID = try fixture.file("f", in: sub.id).id
            try fixture.writeFile(fileID, bytes, now: 30)
            _ = try fixture.store.symlink(account: StoreFixture.a, parent: fixture.rootA, name: "s", target: "sub/f", uid: 1, gid: 2, now: 31)
            expected = try fixture.store.readdir(account: StoreFixture.a, directory: fixture.rootA, cookie: 0, limit: 100).entries
            // A second store on the same directory is refused while this one is open.
            expectError(.tryAgain) { _ = try Store(directory: directory, logger: .init(label: "test")) }
        }
        let leftover = directory.appendingPathComponent("blocks/tmp/half-written")
        try Data([1, 2, 3]).write(to: leftover)

        let reopened = try StoreFixture(reopening: directory, rootA: roots.0, rootB: roots.1)
        #expect(try reopened.store.readdir(account: StoreFixture.a, directory: roots.0, cookie: 0, limit: 100).entries == expected)
        #expect(try reopened.readFile(fileID) == bytes)
        #expect(try reopened.store.content(account: StoreFixture.a, node: fileID).version == 1)
        let link = try reopened.store.lookup(account: StoreFixture.a, parent: roots.0, name: "s")
        #expect(try reopened.store.readlink(account: StoreFixture.a, node: link.id) == "sub/f")
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
        // Ids keep counting up: a new node never takes an old id.
        #expect(try reopened.file("new").id > link.id)
    }

    @Test("the database runs in WAL mode with synchronous FULL and foreign keys, savepoints journaled in memory")
    func durabilitySettings() throws {
        try StoreFixture.with { fixture in
            let settings = try fixture.store.database.write { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                 try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                 try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                 try Int.fetchOne(db, sql: "PRAGMA temp_store"))
            }
            #expect(settings.0 == "wal")
            #expect(settings.1 == 2)
            #expect(settings.2 == 1)
            #expect(settings.3 == 2)  // MEMORY
        }
    }

    @Test("the same calls with the same times give identical metadata")
    func deterministic() throws {
        func run(_ fixture: StoreFixture) throws -> [String] {
            let store = fixture.store
            let a = StoreFixture.a
            let d = try fixture.dir("d", now: 10)
            let f = try fixture.file("f", in: d.id, now: 11)
            try fixture.writeFile(f.id, pattern(Limits.blockSize * 2 + 3, seed: 2), now: 12)
            _ = try store.link(account: a, node: f.id, newParent: fixture.rootA, newName: "g", now: 13)
            try store.rename(account: a, parent: d.id, name: "f", newParent: fixture.rootA, newName: "h", flags: [], now: 14)
            _ = try store.setattr(account: a, node: f.id, changes: SetAttributes(size: 1000), now: 15)
            try store.unlink(account: a, parent: fixture.rootA, name: "g", now: 16)
            _ = try fixture.dir("e", account: StoreFixture.b, now: 17)
            _ = try store.collectGarbage(storedBefore: 13)
            return try store.database.read { db in
                var dump: [String] = []
                for table in ["nodes", "entries", "blocks", "sqlite_sequence"] {
                    for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1") {
                        dump.append("\(table): \(row)")
                    }
                }
                return dump
            }
        }
        let first = try StoreFixture.with(run)
        let second = try StoreFixture.with(run)
        #expect(!first.isEmpty)
        #expect(first == second)
    }
}
