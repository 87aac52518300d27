import Foundation
import GRDB
import NetStoreCore
@testable import NetStoreStorage
import Testing

@Suite("Readdir")
struct ReaddirTests {
    @Test("paging over 10,000 entries returns each exactly once, in order, with attributes")
    func pagingOverManyEntries() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let directory = try fixture.dir("big")
            var made: [String: NodeID] = [:]
            for index in 0 ..< 10_000 {
                let name = "file-\(index)"
                made[name] = try fixture.file(name, in: directory.id, now: Int64(index)).id
            }
            for pageSize in [1000, 777] {
                var seen: [String: NodeID] = [:]
                var cookie: UInt64 = 0
                var pages = 0
                var lastCookie: UInt64 = 0
                while true {
                    let page = try store.readdir(account: StoreFixture.a, directory: directory.id, cookie: cookie, limit: pageSize)
                    pages += 1
                    #expect(page.entries.count <= pageSize)
                    for entry in page.entries {
                        #expect(seen[entry.name] == nil, "\(entry.name) listed twice")
                        seen[entry.name] = entry.attributes.id
                        #expect(entry.cookie > lastCookie)
                        lastCookie = entry.cookie
                        #expect(entry.attributes.kind == .file && entry.attributes.nlink == 1)
                    }
                    if page.isLast { break }
                    cookie = try #require(page.entries.last?.cookie)
                }
                #expect(seen == made)
                #expect(pages == (10_000 + pageSize - 1) / pageSize)
                lastCookie = 0
            }
            // Creation order is listing order.
            let first = try store.readdir(account: StoreFixture.a, directory: directory.id, cookie: 0, limit: 3)
            #expect(first.entries.map(\.name) == ["file-0", "file-1", "file-2"])
            #expect(!first.isLast)
        }
    }

    @Test("the limit is clamped; an empty directory is one last, empty page; entries removed meanwhile are skipped")
    func limitsAndEdges() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let a = StoreFixture.a
            let empty = try store.readdir(account: a, directory: fixture.rootA, cookie: 0, limit: 10)
            #expect(empty.entries.isEmpty && empty.isLast)
            for index in 0 ..< 5 { _ = try fixture.file("f\(index)") }
            let one = try store.readdir(account: a, directory: fixture.rootA, cookie: 0, limit: 0)
            #expect(one.entries.map(\.name) == ["f0"] && !one.isLast)
            try store.unlink(account: a, parent: fixture.rootA, name: "f1", now: 9)
            let rest = try store.readdir(account: a, directory: fixture.rootA, cookie: one.entries[0].cookie, limit: 1_000_000)
            #expect(rest.entries.map(\.name) == ["f2", "f3", "f4"] && rest.isLast)
            let exact = try store.readdir(account: a, directory: fixture.rootA, cookie: 0, limit: 4)
            #expect(exact.entries.count == 4 && exact.isLast)
            #expect(try store.readdir(account: a, directory: fixture.rootA, cookie: .max, limit: 4) == DirectoryPage(entries: [], isLast: true))
        }
    }

    @Test("a page is one indexed query: the plan walks the (parent, id) index, never a scan or a sort")
    func pageQueryUsesIndex() throws {
        try StoreFixture.with { fixture in
            let plan = try fixture.store.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + NodeRows.pageQuery, arguments: [1, 0, 10])
                    .map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("entries_parent_id") }, "\(plan)")
            #expect(!plan.contains { $0.contains("SCAN") || $0.contains("TEMP B-TREE") }, "\(plan)")
        }
    }

    @Test("paging over 100,000 entries, among other directories' entries, lists each once")
    func pagingOverHundredThousand() throws {
        try StoreFixture.with { fixture in
            let store = fixture.store
            let big = try fixture.dir("big")
            let other = try fixture.dir("other")
            // Made in one transaction (the API's one transaction per create is slow for this many).
            try store.database.write { db in
                let node = try db.makeStatement(sql: """
                    INSERT INTO nodes (account, kind, mode, uid, gid, nlink, size, atime_ns, mtime_ns, ctime_ns, version)
                    VALUES (?, 1, 420, 0, 0, 1, 0, 0, 0, 0, 0)
                    """)
                let entry = try db.makeStatement(sql: "INSERT INTO entries (parent, name, node) VALUES (?, ?, ?)")
                for index in 0 ..< 100_000 {
                    try node.execute(arguments: [Int64(StoreFixture.a)])
                    let parent = index % 10 == 9 ? other.id : big.id
                    try entry.execute(arguments: [Int64(parent), "n\(index)", db.lastInsertedRowID])
                }
                for index in 0 ..< 10_000 {
                    try node.execute(arguments: [Int64(StoreFixture.a)])
                    try entry.execute(arguments: [Int64(big.id), "m\(index)", db.lastInsertedRowID])
                }
            }
            let start = ContinuousClock.now
            var names = Set<String>()
            var cookie: UInt64 = 0
            var count = 0
            while true {
                let page = try store.readdir(account: StoreFixture.a, directory: big.id, cookie: cookie, limit: Limits.maxReaddirPage)
                count += page.entries.count
                names.formUnion(page.entries.map(\.name))
                if page.isLast { break }
                cookie = try #require(page.entries.last?.cookie)
            }
            let elapsed = ContinuousClock.now - start
            #expect(count == 100_000 && names.count == 100_000)
            #expect(names.contains("n0") && !names.contains("n9") && names.contains("m9999"))
            // Generous: a page is one indexed query, so the whole listing takes well under a second.
            #expect(elapsed < .seconds(20), "listing 100,000 entries took \(elapsed)")
        }
    }
}
