import NetStoreTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NetStoreClient
import NetStoreCore
import Testing
@testable import NetStoreWeb

@Suite("Login, sessions and logout")
struct LoginTests {
    @Test("pages need a session: a browser without one is sent to the login form")
    func redirectsToLogin() async throws {
        let fixture = try await WebFixture()
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            let response = try await browser.get("/files/Docs/")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/login?next=%2Ffiles%2FDocs%2F")
            let raw = try await browser.get("/download/a.txt")
            #expect(raw.status == .seeOther)
            let form = try await browser.get("/login")
            #expect(form.status == .ok)
            #expect(form.text.contains("<form method=\"post\" action=\"/login\">"))
            let cookie = try #require(form.headers[.setCookie])
            #expect(cookie.contains("ns_login="))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"))
        }
    }

    @Test("a right password starts a session with an HttpOnly, SameSite=Strict cookie")
    func login() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            let response = try await browser.login("alice")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/files/")
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("ns_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"))
            let home = try await browser.get("/files/")
            #expect(home.status == .ok)
            #expect(home.text.contains("<span class=\"who\">alice</span>"))
            #expect(browser.csrf != nil)
            // Logged in already: the login page sends the browser on.
            #expect(try await browser.get("/login").status == .seeOther)
        }
    }

    @Test("cookies are Secure when the viewer is served over TLS")
    func secureCookies() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration(secureCookies: true)).test(.router) { client in
            let browser = Browser(client)
            let response = try await browser.login("alice")
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("ns_session=") })
            #expect(cookie.contains("; Secure"))
        }
    }

    @Test("a wrong password shows the cluster's error; many wrong ones show its throttling")
    func wrongPassword() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            let response = try await browser.login("alice", password: "not-the-password")
            #expect(response.status == .unauthorized)
            #expect(response.text.contains("id=\"login-error\""))
            #expect(browser.cookies["ns_session"] == nil)
            var last = response
            for _ in 0..<8 {
                last = try await browser.login("alice", password: "not-the-password")
                if last.status == .tooManyRequests { break }
            }
            #expect(last.status == .tooManyRequests)
            #expect(last.text.contains("id=\"login-error\""))
        }
    }

    @Test("a login form must come from this site (login CSRF)")
    func loginNeedsFormCookie() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            let response = try await browser.post("/login", [("csrf", "forged"), ("user", "alice"), ("password", "alice-password-1")], csrf: false)
            #expect(response.status == .forbidden)
            #expect(browser.cookies["ns_session"] == nil)
        }
    }

    @Test("after login the browser goes back to the page it asked for, never to another site")
    func nextParameter() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            for (next, expected) in [("/files/Docs/", "/files/Docs/"), ("//evil.example/", "/files/"), ("https://evil.example/", "/files/")] {
                let browser = Browser(client)
                let form = try await browser.get("/login")
                let token = try Browser.hiddenField("csrf", in: form.text)
                let response = try await browser.post("/login", [("csrf", token), ("user", "alice"), ("password", "alice-password-1"), ("next", next)], csrf: false)
                #expect(response.headers[.location] == expected)
            }
        }
    }

    @Test("logout needs the CSRF token, ends the session and revokes the cluster token")
    func logout() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        let configuration = fixture.configuration()
        let sessions = SessionStore(configuration)
        try await buildApplication(configuration, sessions: sessions).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            _ = try await browser.get("/files/")
            let session = try #require(sessions.all.first)
            let token = try #require(session.client.session?.token)
            // The token works while the session lasts.
            let probe = NetStoreClient(servers: [fixture.address], credentials: .token(token))
            #expect(try await probe.connect()?.user.name == "alice")
            await probe.close()
            #expect(try await browser.post("/logout", [], csrf: false).status == .forbidden)
            #expect(try await browser.get("/files/").status == .ok)
            let response = try await browser.post("/logout", [])
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/login")
            #expect(browser.cookies["ns_session"] == nil)
            #expect(try await browser.get("/files/").status == .seeOther)
            #expect(sessions.count == 0)
            let revoked = NetStoreClient(servers: [fixture.address], credentials: .token(token))
            await #expect(throws: NetStoreError.self) { try await revoked.connect() }
            await revoked.close()
        }
    }

    @Test("an idle session expires")
    func idleExpiry() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        try await buildApplication(fixture.configuration()).test(.router) { client in
            let browser = Browser(client)
            try await browser.login("alice")
            #expect(try await browser.get("/files/").status == .ok)
            fixture.clock.advance(.seconds(300))
            #expect(try await browser.get("/files/").status == .ok)
            fixture.clock.advance(.seconds(601))
            let response = try await browser.get("/files/")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location]?.hasPrefix("/login") == true)
        }
    }
}
