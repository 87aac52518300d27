import Crypto
import Foundation

/// Bearer tokens: 32 bytes from the system CSPRNG (getrandom on Linux), base64url
/// without padding (43 characters).
///
/// The database holds only a token's SHA-256, so a copy of the database (or of a
/// backup) does not hand out live sessions.
public enum SessionToken {
    public static let byteCount = 32

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return base64URL(bytes)
    }

    /// What `sessions.token_hash` holds for `token`.
    public static func storageHash(of token: String) -> Data {
        Data(SHA256.hash(data: Array(token.utf8)))
    }

    /// Base64url (RFC 4648 §5) without padding.
    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
