import Foundation
import NetStoreAuth
import Testing

@Suite struct SessionTokenTests {
    @Test func tokensAreLongRandomAndURLSafe() {
        let tokens = (0..<100).map { _ in SessionToken.generate() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.count == 43)  // 32 bytes, base64url without padding
            #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
    }

    @Test func storageHashIsTheSHA256OfTheToken() {
        let token = SessionToken.generate()
        let stored = SessionToken.storageHash(of: token)
        #expect(stored.count == 32)
        // FIPS 180-2's "abc" vector.
        let abc = SessionToken.storageHash(of: "abc").map { String(format: "%02x", $0) }.joined()
        #expect(abc == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(stored != SessionToken.storageHash(of: SessionToken.generate()))
    }
}
