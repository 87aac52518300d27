import NetStoreCore
import Testing

@Suite("NameRules")
struct NameRulesTests {
    @Test("ordinary names pass", arguments: ["a", "file.txt", ".hidden", "...", "名前", String(repeating: "x", count: 255)])
    func accepts(name: String) throws {
        try NameRules.validateEntryName(name)
    }

    @Test("names that could escape a directory or break paths are refused", arguments: [
        ("", ErrorCode.invalid), (".", .invalid), ("..", .invalid), ("a/b", .invalid), ("/", .invalid),
        ("a\u{0}b", .invalid), (String(repeating: "x", count: 256), .nameTooLong),
        (String(repeating: "é", count: 128), .nameTooLong),
    ])
    func refuses(name: String, code: ErrorCode) {
        #expect(throws: NetStoreError.self) { try NameRules.validateEntryName(name) }
        do {
            try NameRules.validateEntryName(name)
        } catch {
            #expect(error.code == code)
        }
    }

    @Test("user names")
    func userNames() throws {
        try NameRules.validateUserName("alice")
        try NameRules.validateUserName("a.b_c-9")
        for bad in ["", "Alice", "9lives", "a b", "a/b", String(repeating: "a", count: 65), "é"] {
            #expect(throws: NetStoreError.self, "\(bad)") { try NameRules.validateUserName(bad) }
        }
    }

    @Test("passwords have a minimum and a maximum length")
    func passwords() throws {
        try NameRules.validatePassword("12345678")
        #expect(throws: NetStoreError.self) { try NameRules.validatePassword("1234567") }
        #expect(throws: NetStoreError.self) { try NameRules.validatePassword(String(repeating: "p", count: 1025)) }
    }
}

@Suite("BlockID and ErrorCode")
struct BlockIDTests {
    @Test("hex round trip and the hole")
    func hex() throws {
        let hex = "00ff10a0" + String(repeating: "7e", count: 28)
        let id = try #require(BlockID(hex: hex))
        #expect(id.hex == hex)
        #expect(id.bytes.count == 32 && id.bytes[1] == 0xFF)
        #expect(BlockID(hex: hex.uppercased()) == id)
        #expect(BlockID(hex: String(hex.dropLast())) == nil)
        #expect(BlockID(hex: "zz" + hex.dropFirst(2)) == nil)
        #expect(BlockID(bytes: [1, 2, 3]) == nil)
        #expect(BlockID.hole.isHole && !id.isHole)
    }

    @Test("errno values a program sees")
    func errnoMapping() {
        #expect(ErrorCode.noEntry.errno == 2)
        #expect(ErrorCode.notEmpty.errno == 39)
        #expect(ErrorCode.notPrimary.errno == 30)
        #expect(ErrorCode.badToken.errno == 13)
        #expect(ErrorCode.corruptBlock.errno == 5)
        for code in ErrorCode.allCases where code.rawValue < 1000 {
            #expect(code.errno == Int32(code.rawValue))
        }
    }
}
