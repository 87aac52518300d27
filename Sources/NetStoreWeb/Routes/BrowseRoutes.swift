import Hummingbird
import NIOCore
import NetStoreClient
import NetStoreCore

/// `/files/PATH`: a folder's listing, or a file's page with its preview.
struct BrowseRoutes {
    let configuration: WebConfiguration

    /// Text previews show at most this much of a file.
    static let textPreviewLimit = 256 * 1024

    func register(on router: Router<WebContext>) {
        router.get("/") { _, _ in Response.seeOther("/files/") }
        router.get("/files") { request, context in try await show(request, context) }
        router.get("/files/**") { request, context in try await show(request, context) }
    }

    private func show(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        let path = try WebPath.parse(request.uri.path, prefix: "/files")
        let node = try await session.client.resolve(path)
        if node.kind == .directory {
            var listingRequest = DirectoryListing.Request()
            let query = request.uri.queryParameters
            if let sort = query["sort"].flatMap({ DirectoryListing.SortKey(rawValue: String($0)) }) { listingRequest.sort = sort }
            listingRequest.descending = query["order"] == "desc"
            listingRequest.page = query["page"].flatMap { Int(String($0)) } ?? 1
            listingRequest.after = query["after"].flatMap { UInt64(String($0)) } ?? 0
            let listing = try await DirectoryListing.load(
                node.id, client: session.client, request: listingRequest,
                pageSize: configuration.pageSize, sortableLimit: configuration.sortableLimit)
            return .html(ListingView.page(path: path, listing: listing, session: session))
        }
        let preview = try await preview(of: node, name: path.name ?? "", client: session.client)
        return .html(FileView.page(path: path, node: node, preview: preview, session: session))
    }

    private func preview(of node: NodeAttributes, name: String, client: NetStoreClient) async throws -> FileView.Preview {
        switch node.kind {
        case .directory: return .none(reason: "")
        case .symlink: return .symlink(target: try await client.readlink(node.id))
        case .fifo: return .none(reason: "A FIFO (named pipe) has no content to show.")
        case .socket: return .none(reason: "A socket has no content to show.")
        case .characterDevice, .blockDevice: return .none(reason: "A device node has no content to show.")
        case .file: break
        }
        switch FileKind.of(name: name, kind: node.kind) {
        case .image: return .image
        case .pdf: return .pdf
        case .audio: return .audio
        case .video: return .video
        case .archive: return .none(reason: "No preview for archives. Download the file to open it.")
        default: break
        }
        if node.size == 0 { return .text("", truncated: false) }
        let head = try await Self.readHead(of: node, client: client, limit: Self.textPreviewLimit)
        if head.readableBytesView.contains(0) {
            return .none(reason: "This file looks binary: there is no preview. Download it to open it.")
        }
        let text = String(decoding: head.readableBytesView, as: UTF8.self)
        return .text(text, truncated: node.size > UInt64(head.readableBytes))
    }

    /// The first `limit` bytes of a file (or all of a shorter one).
    static func readHead(of node: NodeAttributes, client: NetStoreClient, limit: Int) async throws -> ByteBuffer {
        let content = try await client.getContent(node.id)
        let wanted = Int(min(UInt64(limit), content.size))
        let out = ByteCollector()
        try await BlockStreamer(client: client, content: content, range: 0..<UInt64(wanted)).forEachChunk { chunk in
            out.append(chunk)
        }
        return out.bytes
    }
}

/// Gathers chunks (a class, so the closure that fills it captures no variable).
final class ByteCollector {
    private(set) var bytes = ByteBuffer()
    func append(_ chunk: ByteBuffer) {
        var chunk = chunk
        bytes.writeBuffer(&chunk)
    }
}
