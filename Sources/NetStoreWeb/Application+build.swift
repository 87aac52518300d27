import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging

/// The web viewer's application, shared by the `netstore-web` executable and
/// the tests (which run it in process with `app.test(.router)`).
public func buildApplication(_ configuration: WebConfiguration) -> some ApplicationProtocol {
    buildApplication(configuration, sessions: SessionStore(configuration))
}

func buildApplication(_ configuration: WebConfiguration, sessions: SessionStore) -> some ApplicationProtocol {
    let router = buildRouter(configuration, sessions: sessions)
    var server = HTTPServerBuilder.http1()
    if let https = configuration.https {
        do {
            server = try .tls(.http1(), tlsConfiguration: https)
        } catch {
            preconditionFailure("HTTPSFiles.configuration checked this TLS configuration: \(error)")
        }
    }
    let scheme = configuration.https == nil ? "http" : "https"
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "netstore-web"),
        onServerRunning: { channel in
            // Scripts and tests read the port from this line when they asked for port 0.
            let port = channel.localAddress?.port ?? configuration.port
            configuration.logger.notice("netstore-web listening on \(scheme)://\(configuration.host):\(port)/")
        },
        logger: configuration.logger)
}

/// The routes; the middleware is added first so that it wraps every route and
/// the not-found responder.
func buildRouter(_ configuration: WebConfiguration, sessions: SessionStore) -> Router<WebContext> {
    let router = Router(context: WebContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: SessionMiddleware(sessions: sessions))
    router.add(middleware: ErrorPageMiddleware(sessions: sessions))
    StaticRoutes().register(on: router)
    LoginRoutes(configuration: configuration, sessions: sessions).register(on: router)
    BrowseRoutes(configuration: configuration).register(on: router)
    ContentRoutes().register(on: router)
    EditRoutes().register(on: router)
    AdminRoutes(configuration: configuration).register(on: router)
    return router
}

extension SessionStore {
    convenience init(_ configuration: WebConfiguration) {
        self.init(
            idleTimeoutNs: Int64(configuration.sessionIdleTimeout.components.seconds) * 1_000_000_000,
            maxSessions: configuration.maxSessions, clock: configuration.clock, logger: configuration.logger)
    }
}
