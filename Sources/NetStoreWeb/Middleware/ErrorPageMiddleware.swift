import HTTPTypes
import Hummingbird
import Logging
import NetStoreCore

/// Turns every error into a page a person can read (or plain text for the
/// upload script), never a stack trace. An error saying the cluster no longer
/// accepts the session's token ends the browser session too.
struct ErrorPageMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let sessions: SessionStore

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        let error: WebError
        do {
            return try await next(request, context)
        } catch let failure as WebError {
            error = failure
        } catch let failure as NetStoreError {
            if failure.code == .badToken || failure.code == .notAuthenticated {
                _ = sessions.remove(context.sessionID)
                error = WebError(.unauthorized, "Your session has ended. Please log in again.", back: "/login")
            } else {
                error = WebError(failure)
            }
        } catch let failure as any HTTPResponseError {
            let status = failure.status
            error = WebError(status, status == .notFound ? "There is no such page." : status.reasonPhrase)
        } catch let failure {
            context.logger.error("unexpected error", metadata: ["error": "\(failure)"])
            error = WebError(.internalServerError, "The web viewer failed unexpectedly. Try again; if it keeps failing, tell the administrator.")
        }
        let session = error.status == .unauthorized ? nil : context.session
        if request.headers[.xCSRFToken] != nil || request.method == .head {
            return .text(error.message, status: error.status)
        }
        if error.status == .unauthorized && request.method == .get {
            return .seeOther("/login?next=" + WebPath.encodeComponent(request.uri.path))
        }
        return .html(Layout.errorPage(error, session: session), status: error.status)
    }
}
