import Hummingbird
import NIOCore

/// An `application/x-www-form-urlencoded` body, read with a size limit.
struct Form: Sendable {
    private var fields: [String: String] = [:]

    static let maxBytes = 64 * 1024

    init(parsing body: String) throws(WebError) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = WebPath.percentDecode(parts[0], plusIsSpace: true),
                let value = WebPath.percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else {
                throw WebError(.badRequest, "The form data is malformed.")
            }
            // The first value wins: a repeated field cannot override an earlier one.
            if fields[key] == nil { fields[key] = value }
        }
    }

    static func read(_ request: Request) async throws -> Form {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw WebError(.contentTooLarge, "The form is too large.")
        }
        return try Form(parsing: String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    subscript(_ key: String) -> String? { fields[key] }

    func require(_ key: String) throws(WebError) -> String {
        guard let value = fields[key] else { throw WebError(.badRequest, "The form lacks its “\(key)” field.") }
        return value
    }
}
