import ArgumentParser
import NetStoreClient
import Foundation
import NetStoreCore
import NetStoreTLS

#if canImport(Glibc)
import Glibc
#endif

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Servers to use, tried in order.", valueName: "HOST:PORT[,HOST:PORT...]"))
    var server: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp(
        "The cluster's CA certificate: connect with TLS and verify the servers against it (default: $NETSTORE_TLS_CA, the one saved at login, the configuration file's tls-ca; none: plain TCP).",
        valueName: "file"))
    var tlsCA: String?

    /// --server, else $NETSTORE_SERVERS, else the saved session's list, else the
    /// configuration file's servers, else 127.0.0.1:7070.
    func servers(saved: SavedSession?) throws(NetStoreError) -> [ServerAddress] {
        try DefaultServers.resolve(flag: server, saved: saved)
    }

    var sessionFile: SessionFile { SessionFile.standard() }

    /// A client for the saved session; fails when nobody is logged in.
    func loggedInClient() throws(NetStoreError) -> NetStoreClient {
        guard let saved = try sessionFile.load() else {
            throw NetStoreError(.notAuthenticated, "not logged in")
        }
        return try client(servers: try servers(saved: saved), credentials: .token(saved.token), saved: saved)
    }

    /// --tls-ca, else $NETSTORE_TLS_CA, else the saved session's, else the configuration file's, as an absolute path.
    func tlsCAFile(saved: SavedSession?) throws(NetStoreError) -> String? {
        try DefaultServers.resolveTLSCA(flag: tlsCA, saved: saved).map { path in
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
    }

    func client(servers: [ServerAddress], credentials: NetStoreClient.Credentials, saved: SavedSession?) throws(NetStoreError) -> NetStoreClient {
        let tls = try tlsCAFile(saved: saved).map { path throws(NetStoreError) in try ClientTLS(caFile: path) }
        return NetStoreClient(servers: servers, credentials: credentials, logger: ClientLogging.standardError(), tls: tls)
    }
}

/// Runs a body with a logged-in client and closes it afterwards, whatever happens.
@discardableResult
func withClient<T>(
    _ options: GlobalOptions, _ body: (NetStoreClient) async throws(NetStoreError) -> T
) async throws(NetStoreError) -> T {
    let client = try options.loggedInClient()
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}
