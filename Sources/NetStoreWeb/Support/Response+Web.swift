import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    static func html(_ page: HTML, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.markup)))
    }

    /// 303 See Other: after a form post, the browser GETs the new page.
    static func seeOther(_ location: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func text(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The cookies this server sets.
enum Cookies {
    static let session = "ns_session"
    /// Ties a login form to the browser that loaded it (login CSRF).
    static let login = "ns_login"

    static func set(_ name: String, _ value: String, secure: Bool, maxAgeSeconds: Int? = nil) -> String {
        var cookie = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if let maxAgeSeconds { cookie += "; Max-Age=\(maxAgeSeconds)" }
        if secure { cookie += "; Secure" }
        return cookie
    }

    static func clear(_ name: String, secure: Bool) -> String {
        set(name, "", secure: secure, maxAgeSeconds: 0)
    }

    /// The value of a cookie the request carries.
    static func value(_ name: String, in request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                if parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return String(parts[1]).trimmingSpaces
                }
            }
        }
        return nil
    }
}
