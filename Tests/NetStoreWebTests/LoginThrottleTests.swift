import NetStoreTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NetStoreCore
import Testing
@testable import NetStoreWeb

/// Over real HTTP (`.live`), so that the connection's remote address is real.
@Suite("Login throttling by browser address")
struct LoginThrottleTests {
    @Test("after N failures from one address: 429 with Retry-After and a readable page, even for the right password; X-Forwarded-For from an untrusted peer changes nothing")
    func throttlesAnAddress() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        var configuration = fixture.configuration()
        configuration.loginFailuresPerAddress = 3
        configuration.loginFailureWindow = .seconds(600)
        try await buildApplication(configuration).test(.live) { client in
            let browser = Browser(client)
            for _ in 0..<3 {
                #expect(try await browser.login("alice", password: "wrong-password").status == .unauthorized)
            }
            let refused = try await browser.login("alice")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter].flatMap { Int($0) }.map { (1...600).contains($0) } == true)
            #expect(refused.text.contains("id=\"login-error\""))
            #expect(refused.text.contains("Too many failed logins from your address"))
            #expect(refused.text.contains("<form method=\"post\" action=\"/login\">"), "the page still offers the form")
            #expect(browser.cookies["ns_session"] == nil)
            // A browser cannot pick another address by saying so.
            #expect(try await browser.login("alice", headers: [.xForwardedFor: "203.0.113.9"]).status == .tooManyRequests)
            // The window passes: the address may try again.
            fixture.clock.advance(.seconds(601))
            #expect(try await browser.login("alice").status == .seeOther)
        }
    }

    @Test("behind a trusted proxy each browser (X-Forwarded-For) is counted on its own; a success does not reset the count")
    func trustedProxy() async throws {
        let fixture = try await WebFixture()
        try await fixture.addUser("alice")
        var configuration = fixture.configuration()
        configuration.loginFailuresPerAddress = 2
        // The live test server listens on localhost: either family may be the peer.
        configuration.trustedProxies = ["127.0.0.1", "::1"]
        try await buildApplication(configuration).test(.live) { client in
            let mallory: HTTPFields = [.xForwardedFor: "198.51.100.7, 203.0.113.5"]
            let bob: HTTPFields = [.xForwardedFor: "203.0.113.6"]
            let browser = Browser(client)
            #expect(try await browser.login("alice", password: "wrong-password", headers: mallory).status == .unauthorized)
            // The right password once: the earlier failure still counts.
            #expect(try await Browser(client).login("alice", headers: mallory).status == .seeOther)
            #expect(try await browser.login("alice", password: "wrong-password", headers: mallory).status == .unauthorized)
            let refused = try await browser.login("alice", headers: mallory)
            #expect(refused.status == .tooManyRequests)
            // The proxy appends the address it saw: that one (the last) is the browser's.
            #expect(refused.text.contains("(203.0.113.5)"))
            #expect(try await Browser(client).login("alice", headers: bob).status == .seeOther)
        }
    }

    @Test("the client address: X-Forwarded-For only from trusted proxies, the last untrusted hop")
    func clientAddress() {
        #expect(ClientAddress.resolve(remote: "10.0.0.1", forwardedFor: ["1.2.3.4"], trustedProxies: []) == "10.0.0.1")
        #expect(ClientAddress.resolve(remote: "10.0.0.1", forwardedFor: ["1.2.3.4, 5.6.7.8"], trustedProxies: ["10.0.0.1"]) == "5.6.7.8")
        #expect(ClientAddress.resolve(remote: "10.0.0.1", forwardedFor: ["1.2.3.4", "10.0.0.2"], trustedProxies: ["10.0.0.1", "10.0.0.2"]) == "1.2.3.4")
        #expect(ClientAddress.resolve(remote: "10.0.0.1", forwardedFor: [], trustedProxies: ["10.0.0.1"]) == "10.0.0.1")
        #expect(ClientAddress.resolve(remote: "10.0.0.1", forwardedFor: ["<script>"], trustedProxies: ["10.0.0.1"]) == "10.0.0.1")
        #expect(ClientAddress.resolve(remote: nil, forwardedFor: ["1.2.3.4"], trustedProxies: []) == ClientAddress.unknown)
        #expect(ClientAddress.resolve(remote: "::ffff:10.0.0.1", forwardedFor: ["1.2.3.4"], trustedProxies: ["10.0.0.1"]) == "1.2.3.4")
        // One IPv6 host can use any address of its /64: they count together.
        #expect(ClientAddress.resolve(remote: "2001:db8:0:7:1::9", forwardedFor: [], trustedProxies: []) == "2001:db8:0:7::/64")
        #expect(ClientAddress.resolve(remote: "::1", forwardedFor: ["2001:DB8:0:7:ffff::1"], trustedProxies: ["::1"]) == "2001:db8:0:7::/64")
    }
}
