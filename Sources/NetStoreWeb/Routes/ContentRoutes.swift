import HTTPTypes
import Hummingbird
import NIOCore
import NetStoreClient
import NetStoreCore

/// A file's bytes, streamed from the cluster: `/raw/PATH` inline (previews,
/// media players) and `/download/PATH` as an attachment. Both answer HEAD,
/// ranges (206) and conditional requests (ETag from node id and version).
struct ContentRoutes {
    /// Content opened on its own cannot run script in this site's origin.
    static let sandboxPolicy = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"

    func register(on router: Router<WebContext>) {
        for (prefix, attachment) in [("/raw", false), ("/download", true)] {
            router.get("\(prefix)/**") { request, context in try await serve(request, context, prefix: prefix, attachment: attachment) }
            router.head("\(prefix)/**") { request, context in try await serve(request, context, prefix: prefix, attachment: attachment) }
        }
    }

    private func serve(_ request: Request, _ context: WebContext, prefix: String, attachment: Bool) async throws -> Response {
        let session = try context.requireSession()
        let path = try WebPath.parse(request.uri.path, prefix: prefix)
        let node = try await session.client.resolve(path)
        guard node.kind == .file else {
            throw WebError(node.kind == .directory ? .badRequest : .notFound,
                           "\(path.description) is \(node.kind == .directory ? "a folder" : "not a regular file"): there is nothing to download.")
        }
        let client = session.client
        let content = try await client.getContent(node.id)
        let name = path.name ?? "file"
        let etag = "\"\(node.id)-\(content.version)\""
        var headers: HTTPFields = [
            .contentType: MediaTypes.contentType(for: name),
            .eTag: etag,
            .lastModified: Formats.httpDate(node.mtimeNs),
            .acceptRanges: "bytes",
            .cacheControl: "private, no-cache",
            .contentDisposition: Self.disposition(name, attachment: attachment),
        ]
        if !attachment && FileKind.of(name: name, kind: .file) != .pdf {
            headers[.contentSecurityPolicy] = Self.sandboxPolicy
        }
        if let match = request.headers[.ifNoneMatch], match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        var outcome = ByteRange.resolve(request.headers[.range], size: content.size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { outcome = .whole }
        let range: Range<UInt64>
        let status: HTTPResponse.Status
        switch outcome {
        case .whole:
            range = 0..<content.size
            status = .ok
        case .partial(let bytes):
            range = bytes
            status = .partialContent
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(content.size)"
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(content.size)"
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "The requested range is beyond the end of the file.")))
        }
        headers[.contentLength] = String(range.count)
        if request.method == .head {
            return Response(status: status, headers: headers, body: .init())
        }
        let streamer = BlockStreamer(client: client, content: content, range: range)
        let logger = context.logger
        return Response(status: status, headers: headers, body: .init { writer in
            do {
                try await streamer.forEachChunk { chunk in try await writer.write(chunk) }
            } catch {
                // The status line is gone already: all that is left is to cut the response short.
                logger.error("download failed midway", metadata: ["error": "\(error)"])
                throw error
            }
            try await writer.finish(nil)
        })
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
    static func disposition(_ name: String, attachment: Bool) -> String {
        let fallback = String(name.unicodeScalars.map { s -> Character in
            (0x20...0x7E).contains(s.value) && s != "\"" && s != "\\" && s != "%" ? Character(s) : "_"
        })
        return "\(attachment ? "attachment" : "inline"); filename=\"\(fallback)\"; filename*=UTF-8''\(WebPath.encodeComponent(name))"
    }
}
