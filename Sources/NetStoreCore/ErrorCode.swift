/// An expected failure, as it travels on the wire and reaches the user.
///
/// Values below 1000 are Linux errno numbers, so the mount can hand them to the
/// kernel unchanged. Values from 1000 up are NetStore's own and each maps to the
/// errno a program should see (`errno`).
public enum ErrorCode: UInt16, Sendable, Hashable, CaseIterable {
    case notPermitted = 1          // EPERM
    case noEntry = 2               // ENOENT
    case io = 5                    // EIO
    case badHandle = 9             // EBADF
    case tryAgain = 11             // EAGAIN
    case accessDenied = 13         // EACCES
    case exists = 17               // EEXIST
    case crossDevice = 18          // EXDEV
    case notDirectory = 20         // ENOTDIR
    case isDirectory = 21          // EISDIR
    case invalid = 22              // EINVAL
    case fileTooBig = 27           // EFBIG
    case noSpace = 28              // ENOSPC
    case readOnly = 30             // EROFS
    case tooManyLinks = 31         // EMLINK
    case nameTooLong = 36          // ENAMETOOLONG
    case notImplemented = 38       // ENOSYS
    case notEmpty = 39             // ENOTEMPTY
    case loop = 40                 // ELOOP
    case noData = 61               // ENODATA
    case protocolError = 71        // EPROTO
    case overflow = 75             // EOVERFLOW
    case notSupported = 95         // ENOTSUP
    case timedOut = 110            // ETIMEDOUT
    case stale = 116               // ESTALE

    /// The request needs a logged-in session (LOGIN or AUTH first).
    case notAuthenticated = 1001
    /// Wrong user name or password.
    case badCredentials = 1002
    /// The session token is unknown, expired or revoked: log in again.
    case badToken = 1003
    /// Too many failed logins for this user or address: wait and retry.
    case tooManyAttempts = 1004
    /// COMMIT named blocks the server does not hold: upload them, then commit again.
    case missingBlocks = 1005
    /// COMMIT's base version is not the file's current version.
    case versionConflict = 1006
    /// A stored block failed its hash check.
    case corruptBlock = 1007
    /// This server does not accept writes (a backup); ask the primary.
    case notPrimary = 1008

    /// The errno a program should see for this code.
    public var errno: Int32 {
        switch self {
        case .notAuthenticated, .badCredentials, .badToken: return 13        // EACCES
        case .tooManyAttempts: return 11                                     // EAGAIN
        case .missingBlocks, .corruptBlock: return 5                         // EIO
        case .versionConflict: return 116                                    // ESTALE
        case .notPrimary: return 30                                          // EROFS
        default: return Int32(rawValue)
        }
    }

    /// A short name for logs and error messages ("ENOENT", "bad-credentials").
    public var name: String {
        switch self {
        case .notPermitted: "EPERM"
        case .noEntry: "ENOENT"
        case .io: "EIO"
        case .badHandle: "EBADF"
        case .tryAgain: "EAGAIN"
        case .accessDenied: "EACCES"
        case .exists: "EEXIST"
        case .crossDevice: "EXDEV"
        case .notDirectory: "ENOTDIR"
        case .isDirectory: "EISDIR"
        case .invalid: "EINVAL"
        case .fileTooBig: "EFBIG"
        case .noSpace: "ENOSPC"
        case .readOnly: "EROFS"
        case .tooManyLinks: "EMLINK"
        case .nameTooLong: "ENAMETOOLONG"
        case .notImplemented: "ENOSYS"
        case .notEmpty: "ENOTEMPTY"
        case .loop: "ELOOP"
        case .noData: "ENODATA"
        case .protocolError: "EPROTO"
        case .overflow: "EOVERFLOW"
        case .notSupported: "ENOTSUP"
        case .timedOut: "ETIMEDOUT"
        case .stale: "ESTALE"
        case .notAuthenticated: "not-authenticated"
        case .badCredentials: "bad-credentials"
        case .badToken: "bad-token"
        case .tooManyAttempts: "too-many-attempts"
        case .missingBlocks: "missing-blocks"
        case .versionConflict: "version-conflict"
        case .corruptBlock: "corrupt-block"
        case .notPrimary: "not-primary"
        }
    }
}
