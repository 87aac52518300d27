import ArgumentParser
import NetStoreClient
import NetStoreCore

#if canImport(Glibc)
import Glibc
#endif

@main
struct NetStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netstore",
        abstract: "Use a NetStore file store: log in, list, upload, download, manage accounts.",
        discussion: """
            Servers are taken from --server, else $NETSTORE_SERVERS, else the list saved at login, \
            else the cluster's configuration file $XDG_CONFIG_HOME/netstore/config.toml, else \
            127.0.0.1:7070. The session is kept in $XDG_CONFIG_HOME/netstore/session. \
            With --tls-ca FILE (else $NETSTORE_TLS_CA, the CA saved at login, the configuration \
            file's tls-ca) connections are TLS and the servers' certificates are checked against FILE; \
            netstore cert init makes the CA and the certificates.
            """,
        subcommands: [
            Login.self, Logout.self, List.self, Put.self, Get.self, Cat.self, Remove.self,
            MakeDirectory.self, Move.self, Stat.self, UserCommand.self, Status.self, Promote.self, Verify.self,
            CertCommand.self,
        ]
    )

    /// Runs the command; every failure prints one line on standard error and exits with 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as NetStoreError {
            Terminal.printError("netstore: \(CommandFailure.describe(error))")
            Glibc.exit(1)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty { Terminal.printError(message) }
            Glibc.exit(1)
        }
    }
}
