import Foundation
import GRDB
import Logging
import NetStoreCore
@testable import NetStoreStorage
import Testing

@Suite("Sockets and device nodes")
struct DeviceNodeTests {
    @Test("each kind is created, looked up, listed and stat'ed with its rdev; only devices keep one")
    func createListStat() throws {
        try StoreFixture.with { fixture in
            let (store, a, root) = (fixture.store, StoreFixture.a, fixture.rootA)
            let made: [(String, NodeKind, UInt64, UInt64)] = [
                // name, kind, rdev given, rdev stored
                ("sock", .socket, 5, 0),
                ("null", .characterDevice, 0x103, 0x103),
                ("loop", .blockDevice, 0x700, 0x700),
                ("big", .blockDevice, .max, .max),  // every bit survives SQLite's signed integers
                ("pipe", .fifo, 9, 0),
            ]
            for (name, kind, given, stored) in made {
                let node = try store.mknod(account: a, parent: root, name: name, kind: kind, mode: 0o640, uid: 0, gid: 6, rdev: given, now: 5)
                #expect(node.kind == kind && node.rdev == stored && node.mode == 0o640 && node.nlink == 1 && node.size == 0, "\(name)")
                #expect(try store.getattr(account: a, node: node.id) == node, "\(name)")
                #expect(try store.lookup(account: a, parent: root, name: name) == node, "\(name)")
            }
            let listed = try store.readdir(account: a, directory: root, cookie: 0, limit: 10).entries
            #expect(listed.map { "\($0.name) \($0.attributes.kind) \($0.attributes.rdev)" } == made.map { "\($0.0) \($0.1) \($0.3)" })
        }
    }

    @Test("a device node links, renames, changes mode and owner and unlinks like a fifo; it has no size or content")
    func behavesLikeAFifo() throws {
        try StoreFixture.with { fixture in
            let (store, a, root) = (fixture.store, StoreFixture.a, fixture.rootA)
            let device = try store.mknod(account: a, parent: root, name: "c", kind: .characterDevice, mode: 0o600, uid: 0, gid: 0, rdev: 0x501, now: 5)
            _ = try store.link(account: a, node: device.id, newParent: root, newName: "c2", now: 6)
            try store.rename(account: a, parent: root, name: "c", newParent: root, newName: "c3", flags: [], now: 7)
            let changed = try store.setattr(account: a, node: device.id, changes: SetAttributes(mode: 0o644, uid: 7, gid: 8), now: 8)
            #expect(changed.nlink == 2 && changed.mode == 0o644 && changed.uid == 7 && changed.rdev == 0x501)
            expectError(.invalid) { _ = try store.setattr(account: a, node: device.id, changes: SetAttributes(size: 1), now: 9) }
            expectError(.invalid) { _ = try store.content(account: a, node: device.id) }
            try store.unlink(account: a, parent: root, name: "c3", now: 10)
            #expect(try store.getattr(account: a, node: device.id).nlink == 1)
            try store.unlink(account: a, parent: root, name: "c2", now: 11)
            expectError(.noEntry) { _ = try store.getattr(account: a, node: device.id) }
        }
    }

    @Test("a store made before rdev existed opens with rdev 0 on its nodes")
    func migrationAddsRdev() throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: directory.appendingPathComponent("metadata.sqlite").path)
        try Schema.migrator.migrate(old, upTo: "v2-replication")
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO nodes (account, kind, mode, uid, gid, nlink, size, atime_ns, mtime_ns, ctime_ns, version)
                VALUES (1, 4, 420, 0, 0, 1, 0, 1, 1, 1, 0)
                """)
        }
        try old.close()
        let store = try Store(directory: directory, logger: Logger(label: "test"))
        let node = try store.getattr(account: 1, node: 1)
        #expect(node.kind == .fifo && node.rdev == 0)
    }
}
