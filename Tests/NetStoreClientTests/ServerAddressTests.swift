import NetStoreClient
import NetStoreCore
import Testing

@Suite("ServerAddress")
struct ServerAddressTests {
    @Test("HOST:PORT, HOST alone, and bracketed IPv6", arguments: [
        ("127.0.0.1:7071", "127.0.0.1", 7071),
        ("localhost", "localhost", 7070),
        ("  db.example:9000 ", "db.example", 9000),
        ("[::1]:7072", "::1", 7072),
        ("[::1]", "::1", 7070),
        ("::1", "::1", 7070),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try ServerAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test("bad addresses are refused with a message", arguments: [
        "", "host:", "host:0", "host:65536", "host:http", ":7070", "[::1", "[::1]7070", "a b:1",
    ])
    func refuses(text: String) {
        let error = #expect(throws: NetStoreError.self) { try ServerAddress(parsing: text) }
        #expect(error?.code == .invalid)
        #expect(error?.message.isEmpty == false)
    }

    @Test("a comma-separated list keeps its order and drops duplicates and empty items")
    func list() throws {
        let servers = try ServerAddress.parseList("a:7070, b:7071,,a:7070,[::1]:7072")
        #expect(servers == [
            ServerAddress(host: "a", port: 7070), ServerAddress(host: "b", port: 7071),
            ServerAddress(host: "::1", port: 7072),
        ])
        #expect(ServerAddress.formatList(servers) == "a:7070,b:7071,[::1]:7072")
        #expect(try ServerAddress.parseList(ServerAddress.formatList(servers)) == servers)
    }

    @Test("an empty list is an error")
    func emptyList() {
        #expect(throws: NetStoreError.self) { try ServerAddress.parseList(" , ") }
        #expect(throws: NetStoreError.self) { try ServerAddress.parseList("a:1,b:x") }
    }
}
