import NetStoreTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NetStoreClient
import NetStoreCore
import Testing
@testable import NetStoreWeb

@Suite("Browsing, folders, rename and delete")
struct BrowseTests {
    @Test("a folder shows breadcrumbs, sizes and times; sorts by name, size and date")
    func listingAndSorting() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        let alice = try await fixture.client("alice")
        try await alice.makeDirectories(try RemotePath("/Docs/Work"))
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            for (name, size) in [("b.txt", 3000), ("a.txt", 10), ("c.txt", 200)] {
                #expect(try await browser.upload("/upload/Docs/Work", name: name, bytes: randomBytes(size, seed: 1)).status == .created)
            }
            let page = try await browser.get("/files/Docs/Work/")
            #expect(page.status == .ok)
            #expect(page.text.contains("<a href=\"/files/\">Home</a><span class=\"sep\">/</span><a href=\"/files/Docs/\">Docs</a><span class=\"sep\">/</span><span aria-current=\"page\">Work</span>"))
            #expect(page.text.contains("2.9 KiB"))
            #expect(page.text.contains(" UTC</td>"))
            #expect(names(page.text) == ["a.txt", "b.txt", "c.txt"])
            #expect(names(try await browser.get("/files/Docs/Work/?sort=name&order=desc").text) == ["c.txt", "b.txt", "a.txt"])
            #expect(names(try await browser.get("/files/Docs/Work/?sort=size").text) == ["a.txt", "c.txt", "b.txt"])
            #expect(names(try await browser.get("/files/Docs/Work/?sort=size&order=desc").text) == ["b.txt", "c.txt", "a.txt"])
            #expect(names(try await browser.get("/files/Docs/Work/?sort=date").text) == ["b.txt", "a.txt", "c.txt"])
            // Folders come first.
            #expect(names(try await browser.get("/files/Docs/").text) == ["Work"])
        }
    }

    @Test("a folder pages: sorted pages when small, cookie pages in store order when large")
    func paging() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        let alice = try await fixture.client("alice")
        let small = try await alice.makeDirectory(try RemotePath("/small"))
        let large = try await alice.makeDirectory(try RemotePath("/large"))
        for i in 0..<5 { _ = try await alice.create(parent: small.id, name: "f\(i)") }
        for i in 0..<9 { _ = try await alice.create(parent: large.id, name: "g\(i)") }
        try await buildApplication(fixture.configuration(pageSize: 2, sortableLimit: 6)).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            let first = try await browser.get("/files/small/")
            #expect(names(first.text) == ["f0", "f1"])
            #expect(first.text.contains("Page 1 of 3"))
            #expect(names(try await browser.get("/files/small/?sort=name&page=3").text) == ["f4"])
            #expect(names(try await browser.get("/files/small/?sort=name&order=desc&page=2").text) == ["f2", "f1"])

            var seen: [String] = []
            var url = "/files/large/"
            for _ in 0..<10 {
                let page = try await browser.get(url)
                #expect(page.text.contains("A large folder"))
                let pageNames = names(page.text)
                #expect(pageNames.count <= 2)
                seen += pageNames
                guard let next = link(id: "next-page", in: page.text) else { break }
                url = next
            }
            #expect(seen.sorted() == (0..<9).map { "g\($0)" })
        }
    }

    @Test("new folder, rename in place, move into a folder, delete with confirmation; all need CSRF")
    func editing() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            #expect(try await browser.post("/mkdir", [("dir", "/"), ("name", "Photos")], csrf: false).status == .forbidden)
            let made = try await browser.post("/mkdir", [("dir", "/"), ("name", "Photos")])
            #expect(made.status == .seeOther)
            #expect(try await browser.post("/mkdir", [("dir", "/"), ("name", "Photos")]).status == .conflict)
            #expect(try await browser.upload("/upload/", name: "cat.jpg", bytes: [1, 2, 3]).status == .created)

            let form = try await browser.get("/rename?path=%2Fcat.jpg")
            #expect(form.status == .ok)
            #expect(form.text.contains("name=\"from\" value=\"/cat.jpg\""))
            #expect(try await browser.post("/rename", [("from", "/cat.jpg"), ("to", "kitten.jpg")], csrf: false).status == .forbidden)
            #expect(try await browser.post("/rename", [("from", "/cat.jpg"), ("to", "kitten.jpg")]).status == .seeOther)
            #expect(names(try await browser.get("/files/").text) == ["Photos", "kitten.jpg"])
            #expect(try await browser.post("/rename", [("from", "/kitten.jpg"), ("to", "/Photos")]).status == .seeOther)
            #expect(names(try await browser.get("/files/Photos/").text) == ["kitten.jpg"])
            #expect(try await browser.post("/rename", [("from", "/nope"), ("to", "x")]).status == .notFound)

            let confirm = try await browser.get("/delete?path=%2FPhotos")
            #expect(confirm.text.contains("and everything in it"))
            #expect(try await browser.post("/delete", [("path", "/Photos")], csrf: false).status == .forbidden)
            #expect(try await browser.post("/delete", [("path", "/Photos")]).status == .seeOther)
            #expect(names(try await browser.get("/files/").text).isEmpty)
            #expect(try await browser.post("/delete", [("path", "/")]).status == .badRequest)
        }
    }
}

/// The entry names of a listing page, in order.
func names(_ page: String) -> [String] {
    var out: [String] = []
    var rest = Substring(page)
    while let range = rest.range(of: "<tr class=\"entry\" data-name=\"") {
        let tail = rest[range.upperBound...]
        out.append(String(tail.prefix { $0 != "\"" }))
        rest = tail
    }
    return out
}

/// The href of the element with an id (as the page escapes it, unescaped).
func link(id: String, in page: String) -> String? {
    guard let start = page.range(of: "id=\"\(id)\" href=\"") else { return nil }
    return String(page[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
}
