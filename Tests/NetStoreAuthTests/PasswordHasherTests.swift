import Foundation
import NetStoreAuth
import Testing

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(parameters: .fastForTesting)

    @Test func verifiesTheRightPasswordOnly() {
        let encoded = hasher.hash("correct horse")
        #expect(hasher.verify("correct horse", against: encoded))
        #expect(!hasher.verify("correct horsE", against: encoded))
        #expect(!hasher.verify("", against: encoded))
    }

    @Test func encodingNamesItsParametersAndSaltsEachHash() async throws {
        let first = hasher.hash("same password")
        let second = hasher.hash("same password")
        #expect(first != second)
        let parts = first.split(separator: "$")
        try #require(parts.count == 6)
        #expect(parts[0] == "scrypt")
        #expect(parts[1] == "16" && parts[2] == "1" && parts[3] == "1")
        #expect(Data(base64Encoded: String(parts[4]))?.count == PasswordHasher.saltByteCount)
        #expect(Data(base64Encoded: String(parts[5]))?.count == PasswordHasher.hashByteCount)
    }

    @Test func hashesMadeWithOtherParametersStillVerify() {
        let old = PasswordHasher(parameters: .init(rounds: 32, blockSize: 2, parallelism: 1)).hash("password1")
        #expect(hasher.verify("password1", against: old))
        #expect(hasher.needsRehash(old))
        #expect(!hasher.needsRehash(hasher.hash("password1")))
    }

    @Test func tamperedHashStringsNeverVerify() async throws {
        let encoded = hasher.hash("password1")
        var parts = encoded.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        // Flip one byte of the stored hash.
        var hash = try #require(Data(base64Encoded: parts[5]))
        hash[0] ^= 0x01
        var tampered = parts
        tampered[5] = hash.base64EncodedString()
        #expect(!hasher.verify("password1", against: tampered.joined(separator: "$")))
        // Change a parameter, the salt, the scheme; truncate; garbage.
        tampered = parts
        tampered[1] = "32"
        #expect(!hasher.verify("password1", against: tampered.joined(separator: "$")))
        var salt = try #require(Data(base64Encoded: parts[4]))
        salt[3] ^= 0x80
        parts[4] = salt.base64EncodedString()
        #expect(!hasher.verify("password1", against: parts.joined(separator: "$")))
        #expect(!hasher.verify("password1", against: "bcrypt" + encoded.dropFirst(6)))
        #expect(!hasher.verify("password1", against: String(encoded.dropLast(4))))
        #expect(!hasher.verify("password1", against: ""))
        #expect(!hasher.verify("password1", against: "scrypt$3$1$1$AAAA$AAAA"))
        // Parameters that would take gigabytes are refused without running.
        #expect(!hasher.verify("password1", against: "scrypt$1048576$32$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA=="))
    }

    @Test func productionParametersHashAndVerify() {
        // About 60 ms a hash in a release build on this 2-core machine, 250 ms in a debug build.
        let production = PasswordHasher()
        #expect(production.parameters == .production)
        let encoded = production.hash("a production password")
        #expect(encoded.hasPrefix("scrypt$32768$8$1$"))
        #expect(production.verify("a production password", against: encoded))
    }
}
