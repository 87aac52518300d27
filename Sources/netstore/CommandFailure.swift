import NetStoreCore

/// Turns an error into a line that says what failed and what to do about it.
enum CommandFailure {
    static func describe(_ error: NetStoreError) -> String {
        switch error.code {
        case .notAuthenticated:
            return "not logged in: run 'netstore login USER'"
        case .badToken:
            return "your session has expired or was revoked: run 'netstore login USER'"
        case .badCredentials:
            return "login failed: wrong user name or password"
        case .tooManyAttempts:
            return "\(text(error)): wait a minute, then try again"
        case .notPrimary:
            return "\(text(error)): this server is a backup; name the primary first with --server"
        default:
            return text(error)
        }
    }

    private static func text(_ error: NetStoreError) -> String {
        error.message.isEmpty ? error.code.name : error.message
    }
}
