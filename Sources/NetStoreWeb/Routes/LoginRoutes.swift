import HTTPTypes
import Hummingbird
import NetStoreClient
import NetStoreCore

/// Login and logout. Passwords are checked by the cluster (which also slows
/// repeated failures, but sees every browser as this viewer's address, so
/// failures are also counted here per browser address); the browser gets a
/// random cookie naming a server-side session that holds the cluster's token.
struct LoginRoutes {
    let configuration: WebConfiguration
    let sessions: SessionStore
    let throttle: ClientThrottle

    init(configuration: WebConfiguration, sessions: SessionStore) {
        self.configuration = configuration
        self.sessions = sessions
        throttle = ClientThrottle(policy: .init(
            maxFailures: configuration.loginFailuresPerAddress, window: configuration.loginFailureWindow))
    }

    func register(on router: Router<WebContext>) {
        router.get("/login") { request, context in try await showForm(request, context) }
        router.post("/login") { request, context in try await login(request, context) }
        router.post("/logout") { request, context in try await logout(request, context) }
    }

    private func showForm(_ request: Request, _ context: WebContext) async throws -> Response {
        if context.session != nil { return .seeOther("/files/") }
        return formPage(next: safeNext(request.uri.queryParameters["next"].map(String.init)), status: .ok)
    }

    private func formPage(
        next: String, user: String = "", error: WebError? = nil, status: HTTPResponse.Status, headers: HTTPFields = [:]
    ) -> Response {
        let token = Secrets.random()
        var headers = headers
        headers[.setCookie] = Cookies.set(Cookies.login, token, secure: configuration.secureCookies, maxAgeSeconds: 3600)
        return .html(LoginView.page(formToken: token, next: next, user: user, error: error), status: status, headers: headers)
    }

    private func login(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await Form.read(request)
        let next = safeNext(form["next"])
        let user = form["user"]?.trimmingSpaces ?? ""
        // The form must come from a page this server gave this browser.
        guard let cookie = Cookies.value(Cookies.login, in: request), !cookie.isEmpty,
            Secrets.constantTimeEqual(cookie, form["csrf"] ?? "")
        else {
            return formPage(next: next, user: user,
                            error: WebError(.forbidden, "The login form had expired. Please try again."), status: .forbidden)
        }
        let password = form["password"] ?? ""
        guard !user.isEmpty, !password.isEmpty else {
            return formPage(next: next, user: user, error: WebError(.badRequest, "Enter your user name and password."), status: .badRequest)
        }
        let address = ClientAddress.of(request, remote: context.remoteAddress?.ipAddress, trustedProxies: configuration.trustedProxies)
        if case .refused(let seconds) = throttle.admit(address, now: configuration.clock()) {
            context.logger.notice("login refused: too many failures", metadata: ["address": "\(address)", "user": "\(user)"])
            let failure = WebError(.tooManyRequests, "Too many failed logins from your address (\(address)). Try again in \(Self.wait(seconds)).")
            return formPage(next: next, user: user, error: failure, status: failure.status, headers: [.retryAfter: "\(seconds)"])
        }
        let info: SessionInfo
        do {
            info = try await logIn(user: user, password: password)
        } catch {
            // Only a rejected password counts against the address, not an unreachable cluster.
            if error.code != .badCredentials && error.code != .notAuthenticated { throttle.recordNotChecked(address) }
            // The cluster's own words: wrong password, or how long to wait after too many tries.
            let failure = WebError(error)
            return formPage(next: next, user: user, error: failure, status: failure.status)
        }
        throttle.recordSuccess(address)
        let client = NetStoreClient(Self.clientConfiguration(configuration, credentials: .token(info.token)))
        let session = WebSession(client: client, user: info.user, csrfToken: Secrets.random(), expiresNs: info.expiresNs)
        let id: String
        do {
            id = try sessions.add(session)
        } catch {
            try? await client.logout()
            throw error
        }
        context.logger.info("login", metadata: ["user": "\(info.user.name)"])
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: Cookies.set(Cookies.session, id, secure: configuration.secureCookies)))
        headers.append(HTTPField(name: .setCookie, value: Cookies.clear(Cookies.login, secure: configuration.secureCookies)))
        return .seeOther(next, headers: headers)
    }

    /// LOGIN through the cluster; the password client is closed (not logged out)
    /// once it has the token, so the password is not kept.
    private func logIn(user: String, password: String) async throws(NetStoreError) -> SessionInfo {
        let client = NetStoreClient(Self.clientConfiguration(configuration, credentials: .password(user: user, password: password)))
        defer { Task { await client.close() } }
        guard let info = try await client.connect() else {
            throw NetStoreError(.notAuthenticated, "the cluster did not start a session")
        }
        return info
    }

    private func logout(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await Form.read(request)
        let secure = configuration.secureCookies
        guard let session = context.session else { return .seeOther("/login") }
        guard session.acceptsCSRF(form["csrf"]) else {
            throw WebError(.forbidden, "This request did not come from a page of this site (its CSRF token is missing or wrong).")
        }
        _ = sessions.remove(context.sessionID)
        do {
            try await session.client.logout()
        } catch {
            await session.client.close()
        }
        context.logger.info("logout", metadata: ["user": "\(session.user.name)"])
        return .seeOther("/login", headers: [.setCookie: Cookies.clear(Cookies.session, secure: secure)])
    }

    /// "45 seconds", "3 minutes".
    static func wait(_ seconds: Int64) -> String {
        if seconds < 90 { return seconds == 1 ? "1 second" : "\(seconds) seconds" }
        return "\((seconds + 59) / 60) minutes"
    }

    /// A local path to go to after login; anything else (another site) becomes /files/.
    private func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.hasPrefix("/login"), !next.hasPrefix("/logout"), next.utf8.count < 4096,
            next.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else { return "/files/" }
        return next
    }

    static func clientConfiguration(_ configuration: WebConfiguration, credentials: NetStoreClient.Credentials) -> NetStoreClient.Configuration {
        NetStoreClient.Configuration(servers: configuration.servers, credentials: credentials, logger: configuration.logger, tls: configuration.clusterTLS)
    }
}
