import Foundation
import NetStoreConfig
import NetStoreCore
import Testing

@Suite("ClusterConfiguration")
struct ClusterConfigurationTests {
    static let good = """
        # Three hosts.
        [defaults]
        cluster-key-file = "cluster.key"
        admin-password-file = "/etc/netstore/admin-password"
        write-quorum = 2
        log-level = "notice"

        [[server]]
        name = "a"
        address = "10.0.0.1:7070"
        role = "backup"
        data = "/var/lib/netstore/a"

        [[server]]
        name = "b"
        address = "[fd00::2]:7070"
        role = "primary"
        listen = "0.0.0.0:7070"
        metrics-listen = "127.0.0.1:9100"
        log-level = "debug"

        [[server]]
        name = "c-3"
        address = "host-c.example:7071"
        role = "backup"
        tls-cert = "tls/c.pem"
        tls-key = "tls/c-key.pem"
        tls-ca = "/etc/netstore/tls/ca.pem"
        """

    @Test("a good file: servers in order, defaults under each server's own settings, paths from the file's directory")
    func goodFile() throws {
        let config = try ClusterConfiguration.parse(Self.good, file: "/etc/netstore/config.toml")
        #expect(config.servers.map(\.name) == ["a", "b", "c-3"])
        let a = try config.server(named: "a")
        #expect(a.address == HostPort(host: "10.0.0.1", port: 7070))
        #expect(a.role == .backup)
        #expect(a.settings.data == "/var/lib/netstore/a")
        #expect(a.settings.clusterKeyFile == "/etc/netstore/cluster.key")
        #expect(a.settings.writeQuorum == 2)
        #expect(a.settings.logLevel == "notice")
        #expect(a.settings.listen == nil)
        #expect(a.settings.metricsListen == nil)
        #expect(a.settings.tlsKeysSet.isEmpty)

        let b = try config.server(named: "b")
        #expect(b.address.description == "[fd00::2]:7070")
        #expect(b.role == .primary)
        #expect(b.settings.listen == HostPort(host: "0.0.0.0", port: 7070))
        #expect(b.settings.metricsListen == HostPort(host: "127.0.0.1", port: 9100))
        #expect(b.settings.logLevel == "debug")
        #expect(b.settings.adminPasswordFile == "/etc/netstore/admin-password")

        let c = try config.server(named: "c-3")
        #expect(c.settings.tlsCert == "/etc/netstore/tls/c.pem")
        #expect(c.settings.tlsKeysSet == ["tls-cert", "tls-key", "tls-ca"])
        #expect(c.settings.tlsKey == "/etc/netstore/tls/c-key.pem")
        #expect(c.settings.tlsCA == "/etc/netstore/tls/ca.pem")
        #expect(config.location(of: "tls-cert", in: c) == "/etc/netstore/config.toml:26")
        #expect(config.location(of: "cluster-key-file", in: c) == "/etc/netstore/config.toml:3")

        #expect(config.peers(of: "b").map(\.name) == ["a", "c-3"])
        #expect(config.clientAddresses.map(\.description) == ["[fd00::2]:7070", "10.0.0.1:7070", "host-c.example:7071"])
        #expect(throws: NetStoreError.self) { try config.server(named: "d") }
    }

    @Test("one server alone needs no cluster key")
    func singleServer() throws {
        let config = try ClusterConfiguration.parse("""
            [[server]]
            name = "solo"
            address = "127.0.0.1:7070"
            role = "primary"
            """, file: "config.toml")
        #expect(config.servers.count == 1)
        #expect(config.servers[0].settings.clusterKeyFile == nil)
    }

    static let servers = """
        [[server]]
        name = "a"
        address = "127.0.0.1:7070"
        role = "primary"
        cluster-key-file = "/k"

        [[server]]
        name = "b"
        address = "127.0.0.1:7071"
        role = "backup"
        cluster-key-file = "/k"

        """

    /// A bad file, the line its error must name, and words the message must contain.
    struct BadFile: Sendable, CustomTestStringConvertible {
        let label: String
        let text: String
        let line: Int?
        let words: [String]
        var testDescription: String { label }
    }

    static let badFiles: [BadFile] = [
        BadFile(label: "TOML syntax", text: "[[server]]\nname = \"a\nrole = \"primary\"\n",
                line: 2, words: []),
        BadFile(label: "unknown key in a server", text: servers + "listen-adress = \"0.0.0.0:7071\"\n",
                line: 12, words: ["server 'b'", "unknown key 'listen-adress'"]),
        BadFile(label: "unknown key in [defaults]", text: "[defaults]\nquorum = 2\n" + servers,
                line: 2, words: ["[defaults]", "unknown key 'quorum'"]),
        BadFile(label: "unknown table", text: servers + "[tls]\ncert = \"x\"\n",
                line: 12, words: ["unknown key 'tls'"]),
        BadFile(label: "unknown role", text: servers.replacingOccurrences(of: "role = \"backup\"", with: "role = \"leader\""),
                line: 10, words: ["server 'b'", "role", "\"leader\""]),
        BadFile(label: "missing address", text: servers.replacingOccurrences(of: "address = \"127.0.0.1:7071\"\n", with: ""),
                line: 7, words: ["server 'b'", "'address' is missing"]),
        BadFile(label: "missing name", text: "[[server]]\naddress = \"h:1\"\nrole = \"primary\"\n",
                line: 1, words: ["[[server]] #1", "'name' is missing"]),
        BadFile(label: "address without a port", text: servers.replacingOccurrences(of: "127.0.0.1:7071", with: "127.0.0.1"),
                line: 9, words: ["server 'b'", "address '127.0.0.1'", "HOST:PORT"]),
        BadFile(label: "a name used twice", text: servers.replacingOccurrences(of: "name = \"b\"", with: "name = \"a\""),
                line: 8, words: ["'a' is used twice"]),
        BadFile(label: "an address used twice", text: servers.replacingOccurrences(of: "7071", with: "7070"),
                line: 9, words: ["server 'b'", "already another server's"]),
        BadFile(label: "two primaries", text: servers.replacingOccurrences(of: "\"backup\"", with: "\"primary\""),
                line: 10, words: ["server 'b'", "second primary"]),
        BadFile(label: "no primary", text: servers.replacingOccurrences(of: "\"primary\"", with: "\"backup\""),
                line: 4, words: ["no server has role = \"primary\""]),
        BadFile(label: "write quorum beyond the servers", text: "[defaults]\nwrite-quorum = 3\n" + servers,
                line: 2, words: ["write-quorum must be 1 to 2", "not 3"]),
        BadFile(label: "a string where a number belongs", text: servers + "write-quorum = \"2\"\n",
                line: 12, words: ["write-quorum must be an integer", "a string"]),
        BadFile(label: "TLS without its key and CA", text: servers + "tls-cert = \"b.pem\"\n",
                line: 12, words: ["server 'b'", "TLS needs tls-cert, tls-key and tls-ca", "tls-key, tls-ca missing"]),
        BadFile(label: "an unknown log level", text: servers + "log-level = \"loud\"\n",
                line: 12, words: ["log-level must be one of", "'loud'"]),
        BadFile(label: "no cluster key with replicas", text: servers.replacingOccurrences(of: "cluster-key-file = \"/k\"\n\n[[server]]", with: "\n[[server]]"),
                line: 1, words: ["server 'a'", "cluster-key-file is missing"]),
        BadFile(label: "[server] instead of [[server]]", text: "[server]\nname = \"a\"\n",
                line: 1, words: ["[[server]]"]),
        BadFile(label: "no servers", text: "[defaults]\nlog-level = \"info\"\n",
                line: nil, words: ["no servers"]),
        BadFile(label: "a name that cannot be a unit instance", text: servers.replacingOccurrences(of: "name = \"b\"", with: "name = \"b/2\""),
                line: 8, words: ["name 'b/2'"]),
        BadFile(label: "a home-relative path", text: servers + "data = \"~/netstore\"\n",
                line: 12, words: ["data", "'~' is not expanded"]),
        BadFile(label: "an unknown top-level key", text: "cluster = \"x\"\n" + servers,
                line: 1, words: ["unknown key 'cluster' at the top level"]),
    ]

    @Test("a bad file is an error naming the file, the line and the key", arguments: badFiles)
    func badFile(_ bad: BadFile) throws {
        let error = try #require(throws: NetStoreError.self) {
            try ClusterConfiguration.parse(bad.text, file: "/etc/netstore/config.toml")
        }
        #expect(error.code == .invalid)
        if let line = bad.line {
            #expect(error.message.hasPrefix("/etc/netstore/config.toml:\(line):"), "\(error.message)")
        } else {
            #expect(error.message.hasPrefix("/etc/netstore/config.toml: "), "\(error.message)")
        }
        for word in bad.words {
            #expect(error.message.contains(word), "\(error.message)")
        }
    }

    @Test("a missing file is an error naming it")
    func missingFile() throws {
        let error = try #require(throws: NetStoreError.self) {
            try ClusterConfiguration.load(from: "/nonexistent/netstore/config.toml")
        }
        #expect(error.code == .noEntry)
        #expect(error.message.contains("/nonexistent/netstore/config.toml"))
    }

    @Test("HOST:PORT needs a host and a port in range")
    func hostPort() {
        #expect(HostPort(parsing: "a.example:1")?.description == "a.example:1")
        #expect(HostPort(parsing: "[::1]:7070") == HostPort(host: "::1", port: 7070))
        for bad in ["a.example", ":7070", "a:0", "a:65536", "a:x", "::1:7070", "[::1]", "[::1]7070", "a b:1", "a:+1"] {
            #expect(HostPort(parsing: bad) == nil, "\(bad)")
        }
    }
}
