import HTTPTypes
import Hummingbird
import NetStoreClient
import NetStoreCore

/// Changes to the tree: upload, new folder, rename/move, delete. Every one is
/// a POST carrying the session's CSRF token (a form field, or the
/// `X-CSRF-Token` header for the upload script).
struct EditRoutes {
    func register(on router: Router<WebContext>) {
        router.post("/upload/**") { request, context in try await upload(request, context) }
        router.post("/upload") { request, context in try await upload(request, context) }
        router.post("/mkdir") { request, context in try await mkdir(request, context) }
        router.get("/rename") { request, context in try await renameForm(request, context) }
        router.post("/rename") { request, context in try await rename(request, context) }
        router.get("/delete") { request, context in try await deleteForm(request, context) }
        router.post("/delete") { request, context in try await delete(request, context) }
    }

    static func checkCSRF(_ session: WebSession, _ token: String?) throws(WebError) {
        guard session.acceptsCSRF(token) else {
            throw WebError(.forbidden, "This request did not come from a page of this site (its CSRF token is missing or wrong). Reload the page and try again.")
        }
    }

    /// POST /upload/DIR?name=NAME with the file's bytes as the body.
    private func upload(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        try Self.checkCSRF(session, request.headers[.xCSRFToken])
        let directory = try WebPath.parse(request.uri.path, prefix: "/upload")
        guard let name = request.uri.queryParameters["name"].map(String.init) else {
            throw WebError(.badRequest, "The upload names no file (?name=).")
        }
        let path: RemotePath
        do {
            path = try directory.appending(name)
        } catch {
            throw WebError(.badRequest, error.message)
        }
        if let length = request.headers[.contentLength].flatMap({ UInt64($0) }), length > Limits.maxFileSize {
            throw WebError(.contentTooLarge, "\(name): larger than the largest file the store holds.")
        }
        let parent = try await session.client.resolve(directory)
        guard parent.kind == .directory else { throw WebError(.badRequest, "\(directory.description) is not a folder.") }
        let node = try await StreamingUpload(client: session.client, parent: parent.id, path: path).run(request.body)
        context.logger.info("upload", metadata: ["user": "\(session.user.name)", "path": "\(path)", "bytes": "\(node.size)"])
        return .text("Uploaded \(path.description) (\(Formats.size(node.size))).", status: .created)
    }

    private func mkdir(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        let form = try await Form.read(request)
        try Self.checkCSRF(session, form["csrf"])
        let directory = try WebPath.parseTyped(form.require("dir"))
        let name = try form.require("name").trimmingSpaces
        let path: RemotePath
        do {
            path = try directory.appending(name)
        } catch {
            throw WebError(.badRequest, error.message, back: WebPath.url("/files", directory))
        }
        do {
            try await session.client.makeDirectory(path)
        } catch {
            throw WebError(error, back: WebPath.url("/files", directory))
        }
        return .seeOther(WebPath.url("/files", directory))
    }

    private func target(_ request: Request) throws(WebError) -> RemotePath {
        guard let text = request.uri.queryParameters["path"].map(String.init) else {
            throw WebError(.badRequest, "No file named (?path=).")
        }
        let path = try WebPath.parseTyped(text)
        guard !path.isRoot else { throw WebError(.badRequest, "Your home folder cannot be renamed or deleted.") }
        return path
    }

    private func renameForm(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        let path = try target(request)
        let node = try await session.client.resolve(path)
        return .html(EditViews.rename(path: path, node: node, session: session))
    }

    private func rename(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        let form = try await Form.read(request)
        try Self.checkCSRF(session, form["csrf"])
        let from = try WebPath.parseTyped(form.require("from"))
        guard !from.isRoot else { throw WebError(.badRequest, "Your home folder cannot be renamed.") }
        let text = try form.require("to").trimmingSpaces
        // A bare name renames within the same folder; a path moves.
        let to: RemotePath
        if text.contains("/") {
            to = try WebPath.parseTyped(text)
        } else {
            do {
                to = try from.parent.appending(text)
            } catch {
                throw WebError(.badRequest, error.message, back: WebPath.url("/files", from.parent))
            }
        }
        let back = WebPath.url("/files", from.parent)
        do {
            try await session.client.move(from, to: to)
        } catch {
            throw WebError(error, back: back)
        }
        return .seeOther(back)
    }

    private func deleteForm(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        let path = try target(request)
        let node = try await session.client.resolve(path)
        return .html(EditViews.delete(path: path, node: node, session: session))
    }

    private func delete(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try context.requireSession()
        let form = try await Form.read(request)
        try Self.checkCSRF(session, form["csrf"])
        let path = try WebPath.parseTyped(form.require("path"))
        guard !path.isRoot else { throw WebError(.badRequest, "Your home folder cannot be deleted.") }
        do {
            try await session.client.remove(path, recursive: true)
        } catch {
            throw WebError(error, back: WebPath.url("/files", path.parent))
        }
        context.logger.info("delete", metadata: ["user": "\(session.user.name)", "path": "\(path)"])
        return .seeOther(WebPath.url("/files", path.parent))
    }
}
