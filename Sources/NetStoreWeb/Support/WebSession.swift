import NetStoreClient
import NetStoreCore

/// One browser session: the NetStore session it maps to (a client that
/// authenticates with the token LOGIN returned, never with the password) and
/// the CSRF token every state-changing request of this browser must carry.
public final class WebSession: Sendable {
    let client: NetStoreClient
    public let user: UserInfo
    let csrfToken: String
    /// When the cluster's token expires; the session ends then at the latest.
    let expiresNs: Int64

    init(client: NetStoreClient, user: UserInfo, csrfToken: String, expiresNs: Int64) {
        self.client = client
        self.user = user
        self.csrfToken = csrfToken
        self.expiresNs = expiresNs
    }

    var isAdmin: Bool { user.role == .admin }

    /// True when `candidate` is this session's CSRF token (compared in constant time).
    func acceptsCSRF(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        return Secrets.constantTimeEqual(candidate, csrfToken)
    }
}

/// Random identifiers for cookies and CSRF tokens.
enum Secrets {
    /// 32 random bytes as URL-safe hex.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = ""
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            out.unicodeScalars.append(digits[Int(byte >> 4)])
            out.unicodeScalars.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
