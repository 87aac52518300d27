import NetStoreTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NetStoreClient
import NetStoreCore
import Testing
@testable import NetStoreWeb

@Suite("Admin pages")
struct AdminTests {
    @Test("only admins see the admin pages")
    func onlyAdmins() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            let page = try await browser.get("/files/")
            #expect(!page.text.contains("/admin/users"))
            #expect(try await browser.get("/admin/users").status == .forbidden)
            #expect(try await browser.get("/admin/cluster").status == .forbidden)
            #expect(try await browser.post("/admin/users/add", [("name", "mallory"), ("password", "mallory-pw-1")]).status == .forbidden)
        }
    }

    @Test("an admin adds an account, resets its password and removes it; sees the cluster's health")
    func accounts() async throws {
        let fixture = try await WebFixture()
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let admin = Browser(client)
            try await admin.login("admin", password: ServerProcess.adminPassword)
            let users = try await admin.get("/admin/users")
            #expect(users.status == .ok)
            #expect(users.text.contains("<tr data-user=\"admin\">"))
            #expect(try await admin.post("/admin/users/add", [("name", "carol"), ("password", "carol-pw-1")], csrf: false).status == .forbidden)
            let added = try await admin.post("/admin/users/add", [("name", "carol"), ("password", "carol-pw-1"), ("role", "user")])
            #expect(added.status == .ok)
            #expect(added.text.contains("<tr data-user=\"carol\">"))
            #expect(try await admin.post("/admin/users/add", [("name", "carol"), ("password", "carol-pw-1")]).status == .conflict)

            let carol = Browser(client)
            #expect(try await carol.login("carol", password: "carol-pw-1").status == .seeOther)
            #expect(try await admin.post("/admin/users/password", [("name", "carol"), ("password", "carol-pw-2")]).status == .ok)
            // The password change ended carol's cluster session: her browser session ends with it.
            #expect(try await carol.get("/files/").status == .seeOther)
            #expect(try await Browser(client).login("carol", password: "carol-pw-2").status == .seeOther)

            #expect(try await admin.post("/admin/users/remove", [("name", "admin")]).status == .badRequest)
            let removed = try await admin.post("/admin/users/remove", [("name", "carol")])
            #expect(removed.status == .ok)
            #expect(!removed.text.contains("data-user=\"carol\""))

            let cluster = try await admin.get("/admin/cluster")
            #expect(cluster.status == .ok)
            #expect(cluster.text.contains("127.0.0.1:\(fixture.server.port)"))
            #expect(cluster.text.contains("reachable"))
            #expect(cluster.text.contains("<td class=\"role\">primary</td>"))
            #expect(cluster.text.contains("in sync"))
        }
    }
}
