import NetStoreTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NetStoreClient
import NetStoreCore
import Synchronization
@testable import NetStoreWeb

/// A real netstore-server in a temp directory, an admin client of it, and the
/// web viewer's configuration pointing at it.
final class WebFixture: @unchecked Sendable {
    let dir: TemporaryDirectory
    let server: ServerProcess
    let admin: NetStoreClient
    let clock = ManualClock()

    init() async throws {
        dir = try TemporaryDirectory("netstore-web-test")
        server = try await ServerProcess(directory: dir)
        admin = NetStoreClient(servers: [ServerAddress(host: "127.0.0.1", port: server.port)], credentials: .password(user: "admin", password: ServerProcess.adminPassword))
        try await admin.connect()
    }

    var address: ServerAddress { ServerAddress(host: "127.0.0.1", port: server.port) }

    func configuration(pageSize: Int = 200, sortableLimit: Int = 10_000, secureCookies: Bool = false) -> WebConfiguration {
        var logger = Logger(label: "netstore.web.test")
        logger.logLevel = .warning
        let clock = self.clock
        return WebConfiguration(
            servers: [address], secureCookies: secureCookies, sessionIdleTimeout: .seconds(600),
            pageSize: pageSize, sortableLimit: sortableLimit, clock: { clock.now }, logger: logger)
    }

    /// Adds an account; returns its password.
    @discardableResult
    func addUser(_ name: String, role: Role = .user) async throws -> String {
        let password = "\(name)-password-1"
        _ = try await admin.addUser(name: name, password: password, role: role)
        return password
    }

    /// A client logged in as `name` (for setting up files without the web viewer).
    func client(_ name: String) async throws -> NetStoreClient {
        let client = NetStoreClient(servers: [address], credentials: .password(user: name, password: "\(name)-password-1"))
        try await client.connect()
        return client
    }

    deinit {
        server.kill9()
        dir.remove()
    }
}

/// Time the tests move by hand (nanoseconds since the epoch).
final class ManualClock: Sendable {
    private let value = Mutex<Int64>(Int64(Date().timeIntervalSince1970 * 1e9))
    var now: Int64 { value.withLock { $0 } }
    func advance(_ duration: Duration) {
        value.withLock { $0 += Int64(duration.components.seconds) * 1_000_000_000 }
    }
}

/// A browser over the test client: keeps cookies and the page's CSRF token.
final class Browser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var csrf: String?

    init(_ client: any TestClientProtocol) { self.client = client }

    @discardableResult
    func request(
        _ uri: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> TestResponse {
        var headers = headers
        if !cookies.isEmpty {
            headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for field in response.headers[values: .setCookie] {
            let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || field.contains("Max-Age=0") { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
        if let token = Self.metaCSRF(in: response.text) { csrf = token }
        return response
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await request(uri, headers: headers)
    }

    /// Posts a form; adds the session's CSRF token unless `csrf` is false.
    func post(_ uri: String, _ fields: [(String, String)], csrf includeCSRF: Bool = true, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = fields
        if includeCSRF, let csrf { fields.append(("csrf", csrf)) }
        let body = fields.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await request(uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// Logs in through the login form; returns the POST's response.
    @discardableResult
    func login(_ user: String, password: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        let form = try await get("/login", headers: headers)
        let token = try Self.hiddenField("csrf", in: form.text)
        return try await post("/login", [("csrf", token), ("user", user), ("password", password ?? "\(user)-password-1"), ("next", "/files/")],
                              csrf: false, headers: headers)
    }

    func upload(_ directoryURL: String, name: String, bytes: [UInt8], csrf includeCSRF: Bool = true) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if includeCSRF, let csrf { headers[.xCSRFToken] = csrf }
        return try await request("\(directoryURL)?name=\(WebPath.encodeComponent(name))", method: .post, headers: headers,
                                 body: ByteBuffer(bytes: bytes))
    }

    static func metaCSRF(in page: String) -> String? {
        guard let range = page.range(of: "<meta name=\"csrf-token\" content=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    static func hiddenField(_ name: String, in page: String) throws -> String {
        guard let range = page.range(of: "name=\"\(name)\" value=\"") else { throw TestFailure("no hidden field \(name)") }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }
}

func formEncode(_ text: String) -> String {
    WebPath.encodeComponent(text)
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var bytes: [UInt8] { Array(body.readableBytesView) }
}

/// Deterministic pseudo-random bytes.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        withUnsafeBytes(of: state) { out.append(contentsOf: $0.prefix(count - out.count)) }
    }
    return out
}
