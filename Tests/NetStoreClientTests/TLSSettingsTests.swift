#if canImport(Glibc)
import Glibc
#endif
import NetStoreClient
import NetStoreCore
import Testing

@Suite("Where a client finds its TLS CA")
struct TLSSettingsTests {
    private func temporaryDirectory() throws -> String {
        var template = Array("/tmp/netstore-tls-settings-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test("--tls-ca, then NETSTORE_TLS_CA, then the saved session, then the config file's tls-ca; empty means plain")
    func precedence() throws {
        let home = try temporaryDirectory()
        defer { _ = system("rm -rf '\(home)'") }
        mkdir("\(home)/netstore", 0o700)
        let file = try #require(fopen("\(home)/netstore/config.toml", "w"))
        fputs("""
            [defaults]
            tls-ca = "tls/ca.pem"
            [[server]]
            name = "a"
            address = "10.0.0.1:7070"
            role = "primary"
            tls-cert = "tls/a.pem"
            tls-key = "tls/a-key.pem"
            """, file)
        fclose(file)
        let environment = ["XDG_CONFIG_HOME": home, "HOME": "/nonexistent"]
        let saved = SavedSession(user: "u", token: "t", servers: [.localDefault], tlsCA: "/saved/ca.pem")
        func resolve(_ flag: String?, _ saved: SavedSession?, _ extra: [String: String] = [:]) throws -> String? {
            try DefaultServers.resolveTLSCA(flag: flag, saved: saved, environment: environment.merging(extra) { $1 })
        }
        #expect(try resolve("/flag/ca.pem", saved, ["NETSTORE_TLS_CA": "/env/ca.pem"]) == "/flag/ca.pem")
        #expect(try resolve(nil, saved, ["NETSTORE_TLS_CA": "/env/ca.pem"]) == "/env/ca.pem")
        #expect(try resolve(nil, saved) == "/saved/ca.pem")
        #expect(try resolve(nil, nil) == "\(home)/netstore/tls/ca.pem")
        #expect(try resolve("", saved) == nil)
        #expect(try resolve(nil, saved, ["NETSTORE_TLS_CA": ""]) == nil)
        #expect(try DefaultServers.resolveTLSCA(flag: nil, saved: nil, environment: ["XDG_CONFIG_HOME": "/nonexistent"]) == nil)
    }

    @Test("the saved session keeps the CA file it logged in with")
    func savedSession() throws {
        let directory = try temporaryDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        let file = SessionFile(path: "\(directory)/session")
        let session = SavedSession(user: "alice", token: "tok", servers: [.localDefault], tlsCA: "/etc/netstore/tls/ca.pem")
        try file.save(session)
        #expect(try file.load() == session)
        let plain = SavedSession(user: "alice", token: "tok", servers: [.localDefault])
        try file.save(plain)
        #expect(try file.load()?.tlsCA == nil)
    }
}
