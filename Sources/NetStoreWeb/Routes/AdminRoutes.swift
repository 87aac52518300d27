import Hummingbird
import NetStoreClient
import NetStoreCore

/// For admins: accounts (add, reset password, remove) and the cluster's health.
/// The cluster checks the role too; this only keeps the pages from others.
struct AdminRoutes {
    let configuration: WebConfiguration

    func register(on router: Router<WebContext>) {
        router.get("/admin/users") { _, context in try await users(context, notice: nil) }
        router.post("/admin/users/add") { request, context in try await add(request, context) }
        router.post("/admin/users/password") { request, context in try await password(request, context) }
        router.post("/admin/users/remove") { request, context in try await remove(request, context) }
        router.get("/admin/cluster") { _, context in try await cluster(context) }
    }

    private func requireAdmin(_ context: WebContext) throws(WebError) -> WebSession {
        let session = try context.requireSession()
        guard session.isAdmin else { throw WebError(.forbidden, "Only administrators may see this page.") }
        return session
    }

    private func users(_ context: WebContext, notice: String?) async throws -> Response {
        let session = try requireAdmin(context)
        let users = try await session.client.listUsers()
        return .html(AdminViews.users(users, notice: notice, session: session))
    }

    private func adminForm(_ request: Request, _ context: WebContext) async throws -> (WebSession, Form) {
        let session = try requireAdmin(context)
        let form = try await Form.read(request)
        try EditRoutes.checkCSRF(session, form["csrf"])
        return (session, form)
    }

    private func add(_ request: Request, _ context: WebContext) async throws -> Response {
        let (session, form) = try await adminForm(request, context)
        let name = try form.require("name").trimmingSpaces
        let role: Role = form["role"] == "admin" ? .admin : .user
        let password = try form.require("password")
        do {
            _ = try await session.client.addUser(name: name, password: password, role: role)
        } catch {
            throw WebError(error, back: "/admin/users")
        }
        return try await users(context, notice: "Added \(role.name) \(name).")
    }

    private func password(_ request: Request, _ context: WebContext) async throws -> Response {
        let (session, form) = try await adminForm(request, context)
        let name = try form.require("name")
        let password = try form.require("password")
        do {
            try await session.client.setPassword(user: name, oldPassword: "", newPassword: password)
        } catch {
            throw WebError(error, back: "/admin/users")
        }
        return try await users(context, notice: "Set a new password for \(name); their sessions were ended.")
    }

    private func remove(_ request: Request, _ context: WebContext) async throws -> Response {
        let (session, form) = try await adminForm(request, context)
        let name = try form.require("name")
        guard name != session.user.name else {
            throw WebError(.badRequest, "You cannot remove your own account while logged in with it.", back: "/admin/users")
        }
        do {
            try await session.client.removeUser(name: name)
        } catch {
            throw WebError(error, back: "/admin/users")
        }
        return try await users(context, notice: "Removed \(name) and their files.")
    }

    private func cluster(_ context: WebContext) async throws -> Response {
        let session = try requireAdmin(context)
        let token = session.client.session?.token
        let probes = await ClusterStatus.probe(configuration.servers, token: token, tls: configuration.clusterTLS, logger: configuration.logger)
        return .html(AdminViews.cluster(probes, connected: session.client.currentServer, session: session))
    }
}
