import Foundation
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Rename")
struct RenameTests {
    let a = StoreFixture.a

    func rename(_ fixture: StoreFixture, _ from: NodeID, _ name: String, _ to: NodeID, _ newName: String,
                flags: RenameFlags = [], now: Int64 = 50) throws {
        try fixture.store.rename(account: a, parent: from, name: name, newParent: to, newName: newName, flags: flags, now: now)
    }

    @Test("a file moves within and across directories; times follow")
    func moveFile() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let file = try fixture.file("f")
            let sub = try fixture.dir("sub")
            try rename(fixture, fixture.rootA, "f", fixture.rootA, "g", now: 20)
            #expect(try fixture.names(fixture.rootA).sorted() == ["g", "sub"])
            #expect(try store.getattr(account: a, node: file.id).ctimeNs == 20)
            try rename(fixture, fixture.rootA, "g", sub.id, "h", now: 30)
            #expect(try store.lookup(account: a, parent: sub.id, name: "h").id == file.id)
            #expect(try fixture.names(fixture.rootA) == ["sub"])
            let root = try store.getattr(account: a, node: fixture.rootA)
            let moved = try store.getattr(account: a, node: sub.id)
            #expect(root.mtimeNs == 30 && root.ctimeNs == 30 && moved.mtimeNs == 30 && root.nlink == 3 && moved.nlink == 2)
            expectError(.noEntry) { try rename(fixture, fixture.rootA, "g", sub.id, "x") }
        }
    }

    @Test("a directory moving between parents moves a link between them")
    func moveDirectory() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let one = try fixture.dir("one")
            let two = try fixture.dir("two")
            let moving = try fixture.dir("m", in: one.id)
            _ = try fixture.file("inside", in: moving.id)
            try rename(fixture, one.id, "m", two.id, "m2")
            #expect(try store.getattr(account: a, node: one.id).nlink == 2)
            #expect(try store.getattr(account: a, node: two.id).nlink == 3)
            #expect(try store.lookup(account: a, parent: two.id, name: "m2").id == moving.id)
            #expect(try fixture.names(moving.id) == ["inside"])
        }
    }

    @Test("replacing a file: the target loses a link, and is deleted with its last one")
    func replaceFile() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let source = try fixture.file("s")
            let target = try fixture.file("t")
            let bytes = pattern(100, seed: 1)
            try fixture.writeFile(target.id, bytes)
            _ = try store.link(account: a, node: target.id, newParent: fixture.rootA, newName: "t2", now: 6)
            try rename(fixture, fixture.rootA, "s", fixture.rootA, "t", now: 40)
            #expect(try store.lookup(account: a, parent: fixture.rootA, name: "t").id == source.id)
            let survivor = try store.getattr(account: a, node: target.id)
            #expect(survivor.nlink == 1 && survivor.ctimeNs == 40)

            let other = try fixture.file("o")
            try rename(fixture, fixture.rootA, "o", fixture.rootA, "t2")
            expectError(.noEntry) { _ = try store.getattr(account: a, node: target.id) }
            #expect(try fixture.refs(BlockStore.id(of: bytes)) == 0)
            #expect(try fixture.names(fixture.rootA).sorted() == ["t", "t2"])
            #expect(try store.lookup(account: a, parent: fixture.rootA, name: "t2").id == other.id)
        }
    }

    @Test("kind rules: file over directory EISDIR, directory over file ENOTDIR, over a non-empty directory ENOTEMPTY")
    func kindRules() throws {
        try StoreFixture.with { fixture in
            _ = try fixture.file("f")
            let directory = try fixture.dir("d")
            let full = try fixture.dir("full")
            _ = try fixture.file("x", in: full.id)
            _ = try fixture.dir("empty")
            expectError(.isDirectory) { try rename(fixture, fixture.rootA, "f", fixture.rootA, "d") }
            expectError(.notDirectory) { try rename(fixture, fixture.rootA, "d", fixture.rootA, "f") }
            expectError(.notEmpty) { try rename(fixture, fixture.rootA, "d", fixture.rootA, "full") }
            #expect(try fixture.names(fixture.rootA).sorted() == ["d", "empty", "f", "full"])
            #expect(try fixture.store.getattr(account: a, node: fixture.rootA).nlink == 5)

            // A directory may replace an empty one: the parent loses the replaced one's link.
            try rename(fixture, fixture.rootA, "d", fixture.rootA, "empty")
            #expect(try fixture.store.lookup(account: a, parent: fixture.rootA, name: "empty").id == directory.id)
            #expect(try fixture.store.getattr(account: a, node: fixture.rootA).nlink == 4)
        }
    }

    @Test("a directory cannot move into itself or its own subtree")
    func intoOwnSubtree() throws {
        try StoreFixture.with { fixture in
            let top = try fixture.dir("top")
            let middle = try fixture.dir("middle", in: top.id)
            let bottom = try fixture.dir("bottom", in: middle.id)
            expectError(.invalid) { try rename(fixture, fixture.rootA, "top", bottom.id, "top") }
            expectError(.invalid) { try rename(fixture, fixture.rootA, "top", top.id, "again") }
            expectError(.invalid) { try rename(fixture, top.id, "middle", middle.id, "x") }
            // Moving over an ancestor: the ancestor is not empty.
            expectError(.notEmpty) { try rename(fixture, middle.id, "bottom", fixture.rootA, "top") }
            // Up the tree is fine.
            try rename(fixture, middle.id, "bottom", fixture.rootA, "bottom")
            #expect(try fixture.names(fixture.rootA).sorted() == ["bottom", "top"])
        }
    }

    @Test("renaming onto the same node does nothing")
    func sameNode() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let file = try fixture.file("f", now: 5)
            _ = try store.link(account: a, node: file.id, newParent: fixture.rootA, newName: "g", now: 6)
            try rename(fixture, fixture.rootA, "f", fixture.rootA, "g", now: 70)
            try rename(fixture, fixture.rootA, "f", fixture.rootA, "f", now: 70)
            #expect(try fixture.names(fixture.rootA) == ["f", "g"])
            let after = try store.getattr(account: a, node: file.id)
            #expect(after.nlink == 2 && after.ctimeNs == 6)
            #expect(try store.getattr(account: a, node: fixture.rootA).mtimeNs == 6)
        }
    }

    @Test("noReplace refuses an existing target and allows a new name")
    func noReplace() throws {
        try StoreFixture.with { fixture in
            _ = try fixture.file("f")
            _ = try fixture.file("g")
            expectError(.exists) { try rename(fixture, fixture.rootA, "f", fixture.rootA, "g", flags: .noReplace) }
            try rename(fixture, fixture.rootA, "f", fixture.rootA, "h", flags: .noReplace)
            #expect(try fixture.names(fixture.rootA).sorted() == ["g", "h"])
            expectError(.invalid) { try rename(fixture, fixture.rootA, "g", fixture.rootA, "h", flags: [.noReplace, .exchange]) }
            expectError(.invalid) { try rename(fixture, fixture.rootA, "g", fixture.rootA, "i", flags: RenameFlags(rawValue: 8)) }
        }
    }

    @Test("exchange swaps two entries atomically and fixes the parents' links")
    func exchange() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let one = try fixture.dir("one")
            let file = try fixture.file("f", in: one.id)
            let directory = try fixture.dir("d")
            try rename(fixture, one.id, "f", fixture.rootA, "d", flags: .exchange, now: 80)
            #expect(try store.lookup(account: a, parent: one.id, name: "f").id == directory.id)
            #expect(try store.lookup(account: a, parent: fixture.rootA, name: "d").id == file.id)
            // The directory moved from the root into `one`.
            #expect(try store.getattr(account: a, node: fixture.rootA).nlink == 3)
            #expect(try store.getattr(account: a, node: one.id).nlink == 3)
            #expect(try store.getattr(account: a, node: file.id).ctimeNs == 80)

            expectError(.noEntry) { try rename(fixture, one.id, "f", fixture.rootA, "missing", flags: .exchange) }
            expectError(.noEntry) { try rename(fixture, one.id, "missing", fixture.rootA, "d", flags: .exchange) }
            // A directory cannot be exchanged with something inside it.
            _ = try fixture.file("inner", in: directory.id)
            expectError(.invalid) { try rename(fixture, fixture.rootA, "one", directory.id, "inner", flags: .exchange) }
            expectError(.invalid) { try rename(fixture, directory.id, "inner", fixture.rootA, "one", flags: .exchange) }
        }
    }
}
