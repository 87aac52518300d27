import NetStoreTestSupport
import Crypto
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NetStoreClient
import NetStoreCore
import Testing
@testable import NetStoreWeb

@Suite("Upload, download, ranges and previews")
struct FileTests {
    static let size = 2 * (1 << 20) + 12_345  // three blocks, the last one short

    @Test("an upload streamed in blocks downloads byte for byte, with its headers")
    func uploadAndDownload() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        let data = randomBytes(Self.size, seed: 7)
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            let upload = try await browser.upload("/upload/", name: "report 2024.bin", bytes: data)
            #expect(upload.status == .created)

            let listing = try await browser.get("/files/")
            #expect(listing.text.contains("<a href=\"/files/report%202024.bin\">report 2024.bin</a>"))
            #expect(listing.text.contains("2 MiB"))

            let download = try await browser.get("/download/report%202024.bin")
            #expect(download.status == .ok)
            #expect(download.bytes == data)
            #expect(download.headers[.contentLength] == String(Self.size))
            #expect(download.headers[.contentDisposition] == "attachment; filename=\"report 2024.bin\"; filename*=UTF-8''report%202024.bin")
            #expect(download.headers[.acceptRanges] == "bytes")
            #expect(download.headers[.lastModified]?.hasSuffix(" GMT") == true)
            let etag = try #require(download.headers[.eTag])

            // The cluster holds the same bytes: read back without the web viewer.
            let alice = try await fixture.client("alice")
            let node = try await alice.resolve("/report 2024.bin")
            #expect(node.size == UInt64(Self.size))
            #expect(etag == "\"\(node.id)-\(node.version)\"")

            let notModified = try await browser.get("/download/report%202024.bin", headers: [.ifNoneMatch: etag])
            #expect(notModified.status == .notModified)
            #expect(notModified.bytes.isEmpty)

            // A new upload of the same name is a new version: a new ETag.
            #expect(try await browser.upload("/upload/", name: "report 2024.bin", bytes: Array(data.prefix(10))).status == .created)
            let again = try await browser.get("/download/report%202024.bin")
            #expect(again.bytes == Array(data.prefix(10)))
            #expect(again.headers[.eTag] != etag)
        }
    }

    @Test("ranges give 206 across block boundaries, suffixes, open ends; beyond the end gives 416")
    func ranges() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        let data = randomBytes(Self.size, seed: 9)
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            #expect(try await browser.upload("/upload/", name: "movie.mp4", bytes: data).status == .created)
            let block = 1 << 20
            let cases: [(String, Range<Int>)] = [
                ("bytes=0-99", 0..<100),
                ("bytes=\(block - 10)-\(block + 9)", (block - 10)..<(block + 10)),
                ("bytes=\(2 * block)-", (2 * block)..<Self.size),
                ("bytes=-500", (Self.size - 500)..<Self.size),
                ("bytes=100-\(Self.size * 2)", 100..<Self.size),
            ]
            for (header, range) in cases {
                let response = try await browser.get("/raw/movie.mp4", headers: [.range: header])
                #expect(response.status == .partialContent, "\(header)")
                #expect(response.bytes == Array(data[range]), "\(header)")
                #expect(response.headers[.contentRange] == "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(Self.size)")
                #expect(response.headers[.contentLength] == String(range.count))
            }
            let beyond = try await browser.get("/raw/movie.mp4", headers: [.range: "bytes=\(Self.size)-"])
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.headers[.contentRange] == "bytes */\(Self.size)")
            // Several ranges: the whole file, as the RFC allows.
            let multi = try await browser.get("/raw/movie.mp4", headers: [.range: "bytes=0-1,5-6"])
            #expect(multi.status == .ok)
            #expect(multi.bytes.count == Self.size)
            // A stale If-Range: the whole (new) file.
            let stale = try await browser.get("/raw/movie.mp4", headers: [.range: "bytes=0-9", .ifRange: "\"1-0\""])
            #expect(stale.status == .ok)

            let head = try await browser.request("/download/movie.mp4", method: .head)
            #expect(head.status == .ok)
            #expect(head.headers[.contentLength] == String(Self.size))
            #expect(head.bytes.isEmpty)
            let headRange = try await browser.request("/raw/movie.mp4", method: .head, headers: [.range: "bytes=10-19"])
            #expect(headRange.status == .partialContent)
            #expect(headRange.headers[.contentLength] == "10")
        }
    }

    @Test("uploads need the CSRF token and a valid name")
    func uploadChecks() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            let forged = try await browser.upload("/upload/", name: "x.txt", bytes: [1, 2, 3], csrf: false)
            #expect(forged.status == .forbidden)
            #expect(try await browser.upload("/upload/", name: "..", bytes: [1]).status == .badRequest)
            #expect(try await browser.upload("/upload/", name: "a/b", bytes: [1]).status == .badRequest)
            #expect(try await browser.upload("/upload/missing-dir", name: "a.txt", bytes: [1]).status == .notFound)
            let listing = try await browser.get("/files/")
            #expect(!listing.text.contains("x.txt"))
            // An empty file and a file of zeros (holes) round-trip too.
            #expect(try await browser.upload("/upload/", name: "empty.txt", bytes: []).status == .created)
            #expect(try await browser.get("/download/empty.txt").bytes.isEmpty)
            let zeros = [UInt8](repeating: 0, count: (1 << 20) + 5)
            #expect(try await browser.upload("/upload/", name: "zeros.bin", bytes: zeros).status == .created)
            #expect(try await browser.get("/download/zeros.bin").bytes == zeros)
        }
    }

    @Test("previews: text escaped in <pre>, images, PDF, audio and video from /raw, markup served as plain text")
    func previews() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            let source = "let x = 1 < 2 && \"<b>\"\n"
            for (name, bytes) in [("main.swift", Array(source.utf8)), ("photo.png", [0x89, 0x50, 0x4E, 0x47]),
                                  ("paper.pdf", Array("%PDF-1.4".utf8)), ("song.mp3", [1, 2]), ("clip.webm", [1, 2]),
                                  ("page.html", Array("<script>alert(1)</script>".utf8)), ("blob.bin", [0, 1, 2, 0])] {
                #expect(try await browser.upload("/upload/", name: name, bytes: bytes).status == .created)
            }
            let text = try await browser.get("/files/main.swift")
            #expect(text.text.contains("<pre id=\"preview-text\">let x = 1 &lt; 2 &amp;&amp; &quot;&lt;b&gt;&quot;\n</pre>"))
            #expect(try await browser.get("/files/photo.png").text.contains("<img id=\"preview-image\" src=\"/raw/photo.png\""))
            #expect(try await browser.get("/files/paper.pdf").text.contains("<iframe id=\"preview-pdf\" src=\"/raw/paper.pdf\""))
            #expect(try await browser.get("/files/song.mp3").text.contains("<audio id=\"preview-audio\""))
            #expect(try await browser.get("/files/clip.webm").text.contains("<video id=\"preview-video\""))
            #expect(try await browser.get("/files/blob.bin").text.contains("id=\"no-preview\""))

            let image = try await browser.get("/raw/photo.png")
            #expect(image.headers[.contentType] == "image/png")
            #expect(image.headers[.contentDisposition]?.hasPrefix("inline;") == true)
            #expect(image.headers[.contentSecurityPolicy]?.hasPrefix("sandbox") == true)
            #expect(try await browser.get("/raw/paper.pdf").headers[.contentType] == "application/pdf")
            #expect(try await browser.get("/raw/song.mp3").headers[.contentType] == "audio/mpeg")
            let html = try await browser.get("/raw/page.html")
            #expect(html.headers[.contentType] == "text/plain; charset=utf-8")
            #expect(html.headers[.xContentTypeOptions] == "nosniff")
            let page = try await browser.get("/files/page.html")
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.text.contains("<script>alert(1)"))
        }
    }
}
