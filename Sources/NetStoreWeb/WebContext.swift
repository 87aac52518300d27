import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the browser session
/// the request's cookie names, if any (set by `SessionMiddleware`).
public struct WebContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The HTTP connection's peer (nil in in-process router tests).
    public let remoteAddress: SocketAddress?
    public var session: WebSession?
    /// The cookie value naming `session`.
    var sessionID: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Uploads stream to the cluster block by block, so no body size limit
    /// applies here; form bodies are bounded where they are collected.
    public var maxUploadSize: Int { Int.max }

    /// The session, or a 401 that sends the browser to the login page.
    func requireSession() throws(WebError) -> WebSession {
        guard let session else { throw WebError(.unauthorized, "Your session has ended. Please log in again.", back: "/login") }
        return session
    }
}
