import Foundation
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Account isolation")
struct IsolationTests {
    @Test("account B gets ENOENT for every operation on account A's nodes, and A's tree is untouched")
    func otherAccountsNodesDoNotExist() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let b = StoreFixture.b
            let directory = try fixture.dir("d")
            let file = try fixture.file("f", in: directory.id)
            try fixture.writeFile(file.id, pattern(100, seed: 1))
            let link = try store.symlink(account: a, parent: directory.id, name: "s", target: "f", uid: 0, gid: 0, now: 6)
            _ = try fixture.dir("e", in: directory.id)
            let mine = try fixture.dir("mine", account: b)
            let mineFile = try fixture.file("mine-file", in: mine.id, account: b)
            let block = BlockStore.id(of: pattern(100, seed: 1))
            let snapshot = try fixture.names(directory.id)
            let attributes = try [directory.id, file.id, link.id, fixture.rootA].map { try store.getattr(account: a, node: $0) }

            let calls: [(String, () throws -> Void)] = [
                ("lookup", { _ = try store.lookup(account: b, parent: directory.id, name: "f") }),
                ("lookup root", { _ = try store.lookup(account: b, parent: fixture.rootA, name: "d") }),
                ("getattr", { _ = try store.getattr(account: b, node: file.id) }),
                ("readdir", { _ = try store.readdir(account: b, directory: directory.id, cookie: 0, limit: 10) }),
                ("mkdir", { _ = try store.mkdir(account: b, parent: directory.id, name: "x", mode: 0o755, uid: 0, gid: 0, now: 9) }),
                ("mknod", { _ = try store.mknod(account: b, parent: directory.id, name: "x", kind: .file, mode: 0o644, uid: 0, gid: 0, now: 9) }),
                ("symlink", { _ = try store.symlink(account: b, parent: directory.id, name: "x", target: "y", uid: 0, gid: 0, now: 9) }),
                ("link A's node into B", { _ = try store.link(account: b, node: file.id, newParent: fixture.rootB, newName: "x", now: 9) }),
                ("link B's node into A", { _ = try store.link(account: b, node: mineFile.id, newParent: directory.id, newName: "x", now: 9) }),
                ("unlink", { try store.unlink(account: b, parent: directory.id, name: "f", now: 9) }),
                ("rmdir", { try store.rmdir(account: b, parent: directory.id, name: "e", now: 9) }),
                ("rename out of A", { try store.rename(account: b, parent: directory.id, name: "f", newParent: fixture.rootB, newName: "x", flags: [], now: 9) }),
                ("rename into A", { try store.rename(account: b, parent: mine.id, name: "mine-file", newParent: directory.id, newName: "x", flags: [], now: 9) }),
                ("exchange", { try store.rename(account: b, parent: mine.id, name: "mine-file", newParent: directory.id, newName: "f", flags: .exchange, now: 9) }),
                ("readlink", { _ = try store.readlink(account: b, node: link.id) }),
                ("setattr", { _ = try store.setattr(account: b, node: file.id, changes: SetAttributes(mode: 0o777), now: 9) }),
                ("truncate", { _ = try store.setattr(account: b, node: file.id, changes: SetAttributes(size: 0), now: 9) }),
                ("content", { _ = try store.content(account: b, node: file.id) }),
                ("commit", { _ = try store.commit(account: b, node: file.id, baseVersion: 1, size: 0, blocks: [], now: 9) }),
            ]
            for (name, call) in calls {
                let error = expectError(.noEntry, call)
                #expect(error != nil, "\(name)")
            }

            #expect(try fixture.names(directory.id) == snapshot)
            #expect(try [directory.id, file.id, link.id, fixture.rootA].map { try store.getattr(account: a, node: $0) } == attributes)
            #expect(try fixture.names(mine.id, account: b) == ["mine-file"])
            #expect(try fixture.refs(block) == 1)
        }
    }

    @Test("deleting an account's tree removes its nodes and releases its blocks, and nothing of others")
    func deleteAccountTree() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let shared = pattern(100, seed: 2)
            let fileA = try fixture.file("f")
            let fileB = try fixture.file("f", account: StoreFixture.b)
            try fixture.writeFile(fileA.id, shared)
            try fixture.writeFile(fileB.id, shared, account: StoreFixture.b)
            _ = try fixture.dir("d", account: StoreFixture.b)
            #expect(try fixture.refs(BlockStore.id(of: shared)) == 2)

            try store.database.write { db in try store.deleteAccountTree(in: db, account: StoreFixture.b) }
            #expect(try fixture.refs(BlockStore.id(of: shared)) == 1)
            expectError(.noEntry) { _ = try store.getattr(account: StoreFixture.b, node: fixture.rootB) }
            #expect(try fixture.readFile(fileA.id) == shared)
            #expect(try store.counts().nodes == 2)
            let entries = try store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM entries") }
            #expect(entries == 1)
        }
    }
}
