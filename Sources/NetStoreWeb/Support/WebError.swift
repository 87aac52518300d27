import HTTPTypes
import NetStoreCore

/// An error that becomes a readable page with an HTTP status. Cluster errors
/// (`NetStoreError`) map to the status that fits their code.
struct WebError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    /// Where a "go on" link on the error page leads.
    var back: String?

    init(_ status: HTTPResponse.Status, _ message: String, back: String? = nil) {
        self.status = status
        self.message = message
        self.back = back
    }

    init(_ error: NetStoreError, back: String? = nil) {
        self.init(Self.status(for: error.code), error.message.isEmpty ? error.code.name : error.message, back: back)
    }

    static func status(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .noEntry, .notDirectory, .stale: .notFound
        case .invalid, .nameTooLong, .loop, .isDirectory: .badRequest
        case .exists, .notEmpty, .versionConflict, .crossDevice, .tooManyLinks: .conflict
        case .notPermitted, .accessDenied, .readOnly, .notPrimary: .forbidden
        case .notAuthenticated, .badCredentials, .badToken: .unauthorized
        case .tooManyAttempts, .tryAgain: .tooManyRequests
        case .fileTooBig: .contentTooLarge
        case .noSpace: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .io, .timedOut, .protocolError, .corruptBlock, .missingBlocks: .badGateway
        default: .internalServerError
        }
    }

    var title: String {
        switch status.code {
        case 400: "Bad request"
        case 401: "Please log in"
        case 403: "Not allowed"
        case 404: "Not found"
        case 405: "Not allowed"
        case 409: "Conflict"
        case 413: "Too large"
        case 416: "Range not satisfiable"
        case 429: "Too many attempts"
        case 502: "The file store is unreachable"
        case 507: "The file store is full"
        default: "Something went wrong"
        }
    }
}
