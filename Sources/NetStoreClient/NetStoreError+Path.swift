import NetStoreCore

extension NetStoreError {
    /// This error about a path, worded as the C library words errno
    /// ("/a/b: no such file or directory"), so that messages read like a
    /// local file system's. Codes without a standard wording keep the server's message.
    public func about(_ path: String) -> NetStoreError {
        if let standard = code.standardText {
            return NetStoreError(code, "\(path): \(standard)")
        }
        return NetStoreError(code, "\(path): \(message.isEmpty ? code.name : message)")
    }
}

extension ErrorCode {
    /// strerror(3)'s wording, in lower case, for the codes a path operation meets.
    var standardText: String? {
        switch self {
        case .notPermitted: "operation not permitted"
        case .noEntry: "no such file or directory"
        case .accessDenied: "permission denied"
        case .exists: "file exists"
        case .crossDevice: "invalid cross-device link"
        case .notDirectory: "not a directory"
        case .isDirectory: "is a directory"
        case .fileTooBig: "file too large"
        case .noSpace: "no space left on device"
        case .readOnly: "read-only file system"
        case .tooManyLinks: "too many links"
        case .nameTooLong: "file name too long"
        case .notEmpty: "directory not empty"
        case .loop: "too many levels of symbolic links"
        default: nil
        }
    }
}
