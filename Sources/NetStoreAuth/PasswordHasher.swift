import Crypto
import Foundation
import _CryptoExtras

/// Password hashes with scrypt (swift-crypto's BoringSSL implementation).
///
/// A hash is stored as a self-describing string,
/// `scrypt$<rounds>$<blockSize>$<parallelism>$<salt base64>$<hash base64>`, so the
/// parameters can be raised later: old hashes still verify with the parameters they
/// name, and `needsRehash` tells when one should be replaced at the next login.
public struct PasswordHasher: Sendable, Hashable {
    public struct Parameters: Sendable, Hashable {
        /// scrypt's N: CPU and memory cost, a power of two.
        public var rounds: Int
        /// scrypt's r.
        public var blockSize: Int
        /// scrypt's p.
        public var parallelism: Int

        public init(rounds: Int, blockSize: Int, parallelism: Int) {
            precondition(Self.isAcceptable(rounds: rounds, blockSize: blockSize, parallelism: parallelism),
                         "scrypt parameters out of range: N=\(rounds) r=\(blockSize) p=\(parallelism)")
            self.rounds = rounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB and about 60 ms per hash (release build, this machine).
        public static let production = Parameters(rounds: 1 << 15, blockSize: 8, parallelism: 1)
        /// Cheap parameters for tests only.
        public static let fastForTesting = Parameters(rounds: 1 << 4, blockSize: 1, parallelism: 1)

        /// Bounds also applied to parameters read back from the database, so that a
        /// damaged or hostile hash string cannot make verification eat all memory.
        static func isAcceptable(rounds: Int, blockSize: Int, parallelism: Int) -> Bool {
            guard rounds >= 2, rounds <= 1 << 20, rounds & (rounds - 1) == 0 else { return false }
            guard (1...32).contains(blockSize), (1...16).contains(parallelism) else { return false }
            // scrypt needs 128 * N * r bytes per lane; allow at most 256 MiB.
            return 128 * rounds * blockSize <= 256 << 20
        }
    }

    public static let saltByteCount = 16
    public static let hashByteCount = 32
    static let scheme = "scrypt"

    public var parameters: Parameters

    public init(parameters: Parameters = .production) {
        self.parameters = parameters
    }

    /// Hashes `password` with a fresh random salt.
    public func hash(_ password: String) -> String {
        precondition(!password.isEmpty, "passwords are validated before hashing")
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let derived = Self.derive(password, salt: salt, parameters: parameters, byteCount: Self.hashByteCount)
        let p = parameters
        return [
            Self.scheme, String(p.rounds), String(p.blockSize), String(p.parallelism),
            Data(salt).base64EncodedString(), derived.withUnsafeBytes { Data($0) }.base64EncodedString(),
        ].joined(separator: "$")
    }

    /// True when `password` matches `encoded`. A malformed or tampered string never matches.
    /// The final comparison is constant-time (`SymmetricKey`'s `==`).
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard let stored = Self.parse(encoded) else { return false }
        // No account has an empty password; BoringSSL's binding cannot take empty input,
        // so spend the same work on a stand-in and refuse.
        if password.isEmpty {
            _ = Self.derive("\u{0}", salt: stored.salt, parameters: stored.parameters, byteCount: stored.hash.count)
            return false
        }
        let derived = Self.derive(password, salt: stored.salt, parameters: stored.parameters,
                                  byteCount: stored.hash.count)
        return derived == SymmetricKey(data: stored.hash)
    }

    /// True when `encoded` was made with other parameters (or is unreadable) and should
    /// be replaced by a fresh hash once the password is known to be right.
    public func needsRehash(_ encoded: String) -> Bool {
        guard let stored = Self.parse(encoded) else { return true }
        return stored.parameters != parameters
    }

    // MARK: internals

    struct Stored {
        var parameters: Parameters
        var salt: [UInt8]
        var hash: [UInt8]
    }

    static func parse(_ encoded: String) -> Stored? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == scheme,
              let rounds = Int(parts[1]), let blockSize = Int(parts[2]), let parallelism = Int(parts[3]),
              Parameters.isAcceptable(rounds: rounds, blockSize: blockSize, parallelism: parallelism),
              let salt = Data(base64Encoded: String(parts[4])), salt.count >= 16, salt.count <= 64,
              // A fixed length: scrypt's output for a shorter length is a prefix of the
              // longer one, so a truncated hash would otherwise still verify.
              let hash = Data(base64Encoded: String(parts[5])), hash.count == hashByteCount
        else { return nil }
        return Stored(
            parameters: Parameters(rounds: rounds, blockSize: blockSize, parallelism: parallelism),
            salt: Array(salt), hash: Array(hash))
    }

    static func derive(_ password: String, salt: [UInt8], parameters p: Parameters, byteCount: Int) -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(
                from: Array(password.utf8), salt: salt, outputByteCount: byteCount,
                rounds: p.rounds, blockSize: p.blockSize, parallelism: p.parallelism)
        } catch {
            // Parameters are range-checked, so this is an allocation failure inside BoringSSL.
            preconditionFailure("scrypt failed with N=\(p.rounds) r=\(p.blockSize) p=\(p.parallelism): \(error)")
        }
    }
}
