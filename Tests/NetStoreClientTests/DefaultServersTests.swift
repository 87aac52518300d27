#if canImport(Glibc)
import Glibc
#endif
import NetStoreClient
import NetStoreCore
import Testing

@Suite("DefaultServers")
struct DefaultServersTests {
    /// A config home with `netstore/config.toml` holding `text`; removed by the caller.
    private func configHome(_ text: String) throws -> String {
        var template = Array("/tmp/netstore-default-servers-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        let home = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        mkdir("\(home)/netstore", 0o700)
        let file = try #require(fopen("\(home)/netstore/config.toml", "w"))
        fputs(text, file)
        fclose(file)
        return home
    }

    static let cluster = """
        [defaults]
        cluster-key-file = "/k"
        [[server]]
        name = "b"
        address = "10.0.0.2:7070"
        role = "backup"
        [[server]]
        name = "a"
        address = "10.0.0.1:7071"
        role = "primary"
        """

    @Test("flag, then NETSTORE_SERVERS, then the saved session, then the config file (primary first), then 127.0.0.1:7070")
    func precedence() throws {
        let home = try configHome(Self.cluster)
        defer { _ = system("rm -rf '\(home)'") }
        let environment = ["XDG_CONFIG_HOME": home, "HOME": "/nonexistent"]
        let saved = SavedSession(user: "u", token: "t", servers: [ServerAddress(host: "saved", port: 1)])

        #expect(DefaultServers.configFilePath(environment: environment) == "\(home)/netstore/config.toml")
        #expect(try DefaultServers.resolve(flag: "flag:2", saved: saved, environment: environment)
                == [ServerAddress(host: "flag", port: 2)])
        var withVariable = environment
        withVariable["NETSTORE_SERVERS"] = "env:3"
        #expect(try DefaultServers.resolve(flag: nil, saved: saved, environment: withVariable)
                == [ServerAddress(host: "env", port: 3)])
        #expect(try DefaultServers.resolve(flag: nil, saved: saved, environment: environment) == saved.servers)
        #expect(try DefaultServers.resolve(flag: nil, saved: nil, environment: environment)
                == [ServerAddress(host: "10.0.0.1", port: 7071), ServerAddress(host: "10.0.0.2", port: 7070)])
        #expect(try DefaultServers.resolve(flag: nil, saved: nil, environment: ["XDG_CONFIG_HOME": "\(home)/none", "HOME": "/x"])
                == [ServerAddress.localDefault])
    }

    @Test("a bad config file is an error naming it, not a silent fallback")
    func badFile() throws {
        let home = try configHome("[[server]]\nname = \"a\"\nadress = \"h:1\"\n")
        defer { _ = system("rm -rf '\(home)'") }
        let error = try #require(throws: NetStoreError.self) {
            try DefaultServers.resolve(flag: nil, saved: nil, environment: ["XDG_CONFIG_HOME": home])
        }
        #expect(error.message.hasPrefix("\(home)/netstore/config.toml:"), "\(error.message)")
    }
}
