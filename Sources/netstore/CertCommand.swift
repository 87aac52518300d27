import ArgumentParser
import NetStoreCore
import NetStoreTLS

struct CertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Make TLS certificates for a cluster.",
        subcommands: [CertInit.self])
}

struct CertInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a private CA and a certificate for each host (P-256), good for clients and replication alike.",
        discussion: """
            Writes DIR/ca.pem (give it to every server and client), DIR/ca-key.pem (keep it off the servers), \
            and DIR/NAME.pem with DIR/NAME-key.pem for each --host; keys are mode 0600. A CA already in DIR \
            signs the new hosts, so a host can be added later. Each ADDR (an IP address or a DNS name) must be \
            how clients and the other servers reach the host, e.g. --host a=10.0.0.1 --host b=10.0.0.2,b.example.org.
            """)

    @Argument(help: "Directory to write the files in (created 0700 if missing).")
    var directory: String

    @Option(name: .customLong("host"), help: ArgumentHelp(
        "A host and the addresses its certificate names (repeat for each host).", valueName: "NAME=ADDR[,ADDR...]"))
    var hosts: [String] = []

    @Option(help: "Days the certificates stay valid.")
    var days: Int = 3650

    func run() async throws {
        guard !hosts.isEmpty else {
            throw NetStoreError(.invalid, "give at least one --host NAME=ADDR, e.g. --host a=10.0.0.1")
        }
        guard days > 0 else { throw NetStoreError(.invalid, "--days must be positive") }
        let parsed = try hosts.map { text throws(NetStoreError) in try CertificateHost(parsing: text) }
        let written = try ClusterCertificates.create(in: directory, hosts: parsed, validDays: days)
        for path in written { print(path) }
    }
}
