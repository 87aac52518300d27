import Foundation
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Namespace")
struct NamespaceTests {
    static let badNames: [(String, ErrorCode)] = [
        ("a/b", .invalid), ("a\0b", .invalid), (".", .invalid), ("..", .invalid), ("", .invalid),
        (String(repeating: "x", count: 256), .nameTooLong),
    ]

    @Test("bad names are refused by every call and nothing is created")
    func badNamesRefused() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let root = fixture.rootA
            let file = try fixture.file("ok")
            let before = try store.counts().nodes
            for (name, code) in Self.badNames {
                expectError(code) { _ = try store.mkdir(account: a, parent: root, name: name, mode: 0o755, uid: 0, gid: 0, now: 9) }
                expectError(code) { _ = try store.mknod(account: a, parent: root, name: name, kind: .file, mode: 0o644, uid: 0, gid: 0, now: 9) }
                expectError(code) { _ = try store.symlink(account: a, parent: root, name: name, target: "ok", uid: 0, gid: 0, now: 9) }
                expectError(code) { _ = try store.link(account: a, node: file.id, newParent: root, newName: name, now: 9) }
                expectError(code) { try store.rename(account: a, parent: root, name: "ok", newParent: root, newName: name, flags: [], now: 9) }
                expectError(code) { try store.rename(account: a, parent: root, name: name, newParent: root, newName: "x", flags: [], now: 9) }
                expectError(code) { _ = try store.lookup(account: a, parent: root, name: name) }
                expectError(code) { try store.unlink(account: a, parent: root, name: name, now: 9) }
                expectError(code) { try store.rmdir(account: a, parent: root, name: name, now: 9) }
            }
            #expect(try store.counts().nodes == before)
            #expect(try fixture.names(root) == ["ok"])
            #expect(try store.getattr(account: a, node: root).mtimeNs == 5)

            let longest = String(repeating: "y", count: 255)
            #expect(try fixture.file(longest).nlink == 1)
            expectError(.noEntry) { _ = try store.symlink(account: a, parent: root, name: "s", target: "", uid: 0, gid: 0, now: 9) }
            expectError(.invalid) { _ = try store.symlink(account: a, parent: root, name: "s", target: "a\0", uid: 0, gid: 0, now: 9) }
        }
    }

    @Test("mkdir counts links: a directory starts at 2 and adds one to its parent")
    func directoryLinks() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            #expect(try store.getattr(account: a, node: fixture.rootA).nlink == 2)
            let directory = try fixture.dir("d", now: 7)
            #expect(directory.nlink == 2 && directory.kind == .directory && directory.mode == 0o755)
            let root = try store.getattr(account: a, node: fixture.rootA)
            #expect(root.nlink == 3 && root.mtimeNs == 7 && root.ctimeNs == 7)
            _ = try fixture.file("f", in: directory.id, now: 8)
            #expect(try store.getattr(account: a, node: directory.id).nlink == 2)
            expectError(.exists) { _ = try fixture.dir("d") }
            expectError(.exists) { _ = try fixture.file("d") }

            expectError(.notEmpty) { try store.rmdir(account: a, parent: fixture.rootA, name: "d", now: 9) }
            expectError(.isDirectory) { try store.unlink(account: a, parent: fixture.rootA, name: "d", now: 9) }
            expectError(.notDirectory) { try store.rmdir(account: a, parent: directory.id, name: "f", now: 9) }
            expectError(.noEntry) { try store.rmdir(account: a, parent: fixture.rootA, name: "none", now: 9) }
            try store.unlink(account: a, parent: directory.id, name: "f", now: 10)
            try store.rmdir(account: a, parent: fixture.rootA, name: "d", now: 11)
            let after = try store.getattr(account: a, node: fixture.rootA)
            #expect(after.nlink == 2 && after.mtimeNs == 11)
            expectError(.noEntry) { _ = try store.getattr(account: a, node: directory.id) }
        }
    }

    @Test("lookup: finds an entry, ENOENT for none, ENOTDIR in a file")
    func lookup() throws {
        try StoreFixture.with { fixture in
            let file = try fixture.file("f")
            #expect(try fixture.store.lookup(account: StoreFixture.a, parent: fixture.rootA, name: "f") == file)
            expectError(.noEntry) { _ = try fixture.store.lookup(account: StoreFixture.a, parent: fixture.rootA, name: "g") }
            expectError(.notDirectory) { _ = try fixture.store.lookup(account: StoreFixture.a, parent: file.id, name: "x") }
            expectError(.notDirectory) { _ = try fixture.file("x", in: file.id) }
            expectError(.notDirectory) {
                _ = try fixture.store.readdir(account: StoreFixture.a, directory: file.id, cookie: 0, limit: 10)
            }
            expectError(.noEntry) { _ = try fixture.store.getattr(account: StoreFixture.a, node: 999_999) }
            expectError(.noEntry) { _ = try fixture.store.getattr(account: StoreFixture.a, node: .max) }
            expectError(.noEntry) { _ = try fixture.store.getattr(account: StoreFixture.a, node: 0) }
        }
    }

    @Test("hard links share a node; the last unlink deletes it and releases its blocks")
    func hardLinks() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let file = try fixture.file("f")
            let bytes = pattern(1000, seed: 1)
            try fixture.writeFile(file.id, bytes)
            let sub = try fixture.dir("sub")
            let linked = try store.link(account: a, node: file.id, newParent: sub.id, newName: "g", now: 20)
            #expect(linked.id == file.id && linked.nlink == 2 && linked.ctimeNs == 20)
            #expect(try store.getattr(account: a, node: sub.id).mtimeNs == 20)
            #expect(try store.lookup(account: a, parent: sub.id, name: "g").id == file.id)
            expectError(.exists) { _ = try store.link(account: a, node: file.id, newParent: sub.id, newName: "g", now: 21) }
            expectError(.notPermitted) { _ = try store.link(account: a, node: sub.id, newParent: fixture.rootA, newName: "s2", now: 21) }
            expectError(.notDirectory) { _ = try store.link(account: a, node: file.id, newParent: file.id, newName: "x", now: 21) }

            try store.unlink(account: a, parent: fixture.rootA, name: "f", now: 30)
            let remaining = try store.getattr(account: a, node: file.id)
            #expect(remaining.nlink == 1 && remaining.ctimeNs == 30)
            #expect(try fixture.readFile(file.id) == bytes)
            let block = BlockStore.id(of: bytes)
            #expect(try fixture.refs(block) == 1)

            try store.unlink(account: a, parent: sub.id, name: "g", now: 40)
            expectError(.noEntry) { _ = try store.getattr(account: a, node: file.id) }
            #expect(try fixture.refs(block) == 0)
            expectError(.noEntry) { try store.unlink(account: a, parent: sub.id, name: "g", now: 41) }
        }
    }

    @Test("a node at the link limit refuses another link with EMLINK")
    func linkLimit() throws {
        try StoreFixture.with { fixture in
            let file = try fixture.file("f")
            try fixture.store.database.write { db in
                try db.execute(sql: "UPDATE nodes SET nlink = ? WHERE id = ?", arguments: [Int64(Limits.maxLinks), Int64(file.id)])
            }
            expectError(.tooManyLinks) {
                _ = try fixture.store.link(account: StoreFixture.a, node: file.id, newParent: fixture.rootA, newName: "g", now: 9)
            }
            #expect(try fixture.names(fixture.rootA) == ["f"])
        }
    }

    @Test("mknod makes no directories or symlinks; symlinks keep their target")
    func kinds() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let fifo = try store.mknod(account: a, parent: fixture.rootA, name: "p", kind: .fifo, mode: 0o10644, uid: 3, gid: 4, now: 5)
            #expect(fifo.kind == .fifo && fifo.mode == 0o644 && fifo.uid == 3 && fifo.gid == 4)
            expectError(.invalid) { _ = try store.mknod(account: a, parent: fixture.rootA, name: "d", kind: .directory, mode: 0o755, uid: 0, gid: 0, now: 5) }
            expectError(.invalid) { _ = try store.mknod(account: a, parent: fixture.rootA, name: "s", kind: .symlink, mode: 0o777, uid: 0, gid: 0, now: 5) }

            let link = try store.symlink(account: a, parent: fixture.rootA, name: "s", target: "../some/where", uid: 0, gid: 0, now: 5)
            #expect(link.kind == .symlink && link.size == 13)
            #expect(try store.readlink(account: a, node: link.id) == "../some/where")
            expectError(.invalid) { _ = try store.readlink(account: a, node: fifo.id) }
        }
    }

    @Test("setattr stores mode bits only and always moves ctime")
    func setattrAttributes() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let file = try fixture.file("f", now: 5)
            var changed = try store.setattr(account: StoreFixture.a, node: file.id,
                                            changes: SetAttributes(mode: 0o104755, uid: 7, gid: 8), now: 10)
            #expect(changed.mode == 0o4755 && changed.uid == 7 && changed.gid == 8)
            #expect(changed.ctimeNs == 10 && changed.mtimeNs == 5 && changed.version == 0)
            changed = try store.setattr(account: StoreFixture.a, node: file.id,
                                        changes: SetAttributes(atime: .nanoseconds(3), mtime: .now), now: 20)
            #expect(changed.atimeNs == 3 && changed.mtimeNs == 20 && changed.ctimeNs == 20 && changed.mode == 0o4755)
            #expect(try store.getattr(account: StoreFixture.a, node: file.id) == changed)
        }
    }

    @Test("statfs reports the data disk; counts count")
    func statfsAndCounts() throws {
        try StoreFixture.with { fixture in
            let stats = try fixture.store.statfs(account: StoreFixture.a)
            #expect(stats.totalBytes > 0 && stats.availableBytes <= stats.totalBytes)
            #expect(stats.maxNameLength == 255)
            _ = try fixture.file("f")
            let counts = try fixture.store.counts()
            #expect(counts.nodes == 3 && counts.users == 0 && counts.blocks == 0)
        }
    }
}
