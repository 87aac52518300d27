import NetStoreClient
import NetStoreCore
import Testing

@Suite("RemotePath")
struct RemotePathTests {
    @Test("absolute and relative paths name the same components")
    func components() throws {
        #expect(try RemotePath("/a/b/c").components == ["a", "b", "c"])
        #expect(try RemotePath("a/b/c").components == ["a", "b", "c"])
        #expect(try RemotePath("/a/b/").components == ["a", "b"])
        #expect(try RemotePath("/").isRoot)
        #expect(try RemotePath("").isRoot)
        #expect(try RemotePath("/a b/ü").components == ["a b", "ü"])
    }

    @Test("'..', '.', empty components and NUL are refused, naming the path", arguments: [
        "/a/../b", "..", "/a/./b", "/a//b", "//", "/a/b//", "/a\u{0}b",
    ])
    func refuses(text: String) {
        let error = #expect(throws: NetStoreError.self) { try RemotePath(text) }
        #expect(error?.code == .invalid)
        #expect(error?.message.hasPrefix(text) == true)
    }

    @Test("a component longer than a name may be is refused")
    func tooLong() {
        let error = #expect(throws: NetStoreError.self) {
            try RemotePath("/" + String(repeating: "n", count: Limits.maxNameLength + 1))
        }
        #expect(error?.code == .nameTooLong)
    }

    @Test("parent, name and appending")
    func navigation() throws {
        let path = try RemotePath("/a/b")
        #expect(path.name == "b")
        #expect(path.parent == (try RemotePath("/a")))
        #expect(path.parent.parent.isRoot)
        #expect(RemotePath.root.parent.isRoot)
        #expect(RemotePath.root.name == nil)
        #expect(try path.appending("c").description == "/a/b/c")
        #expect(try RemotePath.root.appending("x").description == "/x")
        #expect(throws: NetStoreError.self) { try path.appending("..") }
        #expect(path.description == "/a/b")
    }

    @Test("errors about paths read like the C library's")
    func errorWording() {
        #expect(NetStoreError(.noEntry, "lookup failed").about("/a/b").message == "/a/b: no such file or directory")
        #expect(NetStoreError(.notEmpty).about("/d").message == "/d: directory not empty")
        #expect(NetStoreError(.versionConflict, "changed").about("/f").message == "/f: changed")
    }
}
