import NetStoreTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NetStoreClient
import NetStoreCore
import Testing
@testable import NetStoreWeb

@Suite("Safety: other users' files, traversal, escaping, error pages")
struct SafetyTests {
    @Test("a user sees only their own tree; other names, .., encoded slashes and NUL never reach a file")
    func isolationAndTraversal() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await fixture.addUser("bob")
        let bob = try await fixture.client("bob")
        try await bob.makeDirectory(try RemotePath("/private"))
        try await bob.upload(from: "/etc/hostname", to: try RemotePath("/private/secret.txt"))
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            for uri in ["/files/private/secret.txt", "/download/private/secret.txt", "/raw/private/secret.txt",
                        "/files/bob/private/secret.txt", "/download/bob/private/secret.txt"] {
                let response = try await browser.get(uri)
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.text.contains("<h1>Not found</h1>"), "\(uri)")
            }
            for uri in ["/files/..", "/files/../bob", "/files/%2E%2E/bob/private", "/download/a%2Fb", "/download/..%2Fsecret.txt",
                        "/raw/a%00b", "/files/a%00", "/files/%ZZ", "/files/a//b", "/download/%C3%28", "/files/.",
                        "/rename?path=..%2Fx", "/delete?path=%2F..%2Fx"] {
                let response = try await browser.get(uri)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.text.contains("<h1>Bad request</h1>"), "\(uri)")
            }
            #expect(try await browser.upload("/upload/..", name: "x", bytes: [1]).status == .badRequest)
            #expect(try await browser.post("/delete", [("path", "/../bob")]).status == .badRequest)
            #expect(try await browser.post("/rename", [("from", "/x"), ("to", "../../bob/x")]).status == .badRequest)
        }
    }

    @Test("file names are escaped everywhere")
    func escaping() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        let evil = "<img src=x onerror=alert(1)>.txt"
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            #expect(try await browser.upload("/upload/", name: evil, bytes: Array("hi".utf8)).status == .created)
            #expect(try await browser.post("/mkdir", [("dir", "/"), ("name", "\"'><b>dir")]).status == .seeOther)
            let escaped = "&lt;img src=x onerror=alert(1)&gt;.txt"
            let pages = [
                try await browser.get("/files/"),
                try await browser.get("/files/" + WebPath.encodeComponent(evil)),
                try await browser.get("/rename?path=" + WebPath.encodeComponent("/" + evil)),
                try await browser.get("/delete?path=" + WebPath.encodeComponent("/" + evil)),
                try await browser.get("/files/" + WebPath.encodeComponent(evil) + "/child"),
            ]
            for page in pages {
                #expect(!page.text.contains("<img src=x"))
                #expect(!page.text.contains("<b>dir"))
            }
            #expect(pages[0].text.contains(escaped))
            #expect(pages[0].text.contains("&quot;&#39;&gt;&lt;b&gt;dir"))
            #expect(pages[1].text.contains("<h1 id=\"file-name\">\(escaped)</h1>"))
            let download = try await browser.get("/download/" + WebPath.encodeComponent(evil))
            #expect(download.bytes == Array("hi".utf8))
            #expect(download.headers[.contentDisposition] == "attachment; filename=\"<img src=x onerror=alert(1)>.txt\"; filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt")
        }
    }

    @Test("errors are readable pages with security headers, never stack traces")
    func errorPages() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            let unknown = try await browser.get("/no/such/route")
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType] == "text/html; charset=utf-8")
            #expect(unknown.text.contains("<h1>Not found</h1>"))
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            let missing = try await browser.get("/files/missing.txt")
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("id=\"error-message\""))
            #expect(missing.text.contains("missing.txt"))
            #expect(!missing.text.contains("Swift") && !missing.text.contains("NetStoreError("))
            let csp = try #require(missing.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
            #expect(missing.headers[.xFrameOptions] == "SAMEORIGIN")
            #expect(try await browser.post("/mkdir", [("dir", "/"), ("name", "Folder")]).status == .seeOther)
            let folderDownload = try await browser.get("/download/Folder")
            #expect(folderDownload.status == .badRequest)
            #expect(folderDownload.text.contains("is a folder"))
        }
    }

    @Test("the stylesheet and script are served locally; pages name no other site")
    func assetsAreLocal() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            let css = try await browser.get("/static/app.css")
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
            let js = try await browser.get("/static/app.js")
            #expect(js.status == .ok && js.headers[.contentType] == "text/javascript; charset=utf-8")
            try await browser.login("alice")
            let page = try await browser.get("/files/")
            for text in [css.text, js.text, page.text] {
                #expect(!text.contains("http://") && !text.contains("https://"))
            }
        }
    }
}
