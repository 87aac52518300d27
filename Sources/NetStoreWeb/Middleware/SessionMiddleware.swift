import Hummingbird

/// Finds the browser session the request's cookie names and puts it in the context.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let sessions: SessionStore

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        let id = Cookies.value(Cookies.session, in: request)
        if let session = sessions.session(for: id) {
            context.session = session
            context.sessionID = id
        }
        return try await next(request, context)
    }
}
