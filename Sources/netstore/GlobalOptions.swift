import ArgumentParser
import NetStoreClient
import NetStoreCore

#if canImport(Glibc)
import Glibc
#endif

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Servers to use, tried in order.", valueName: "HOST:PORT[,HOST:PORT...]"))
    var server: String?

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
        return client(servers: try servers(saved: saved), credentials: .token(saved.token))
    }

    func client(servers: [ServerAddress], credentials: NetStoreClient.Credentials) -> NetStoreClient {
        NetStoreClient(servers: servers, credentials: credentials, logger: ClientLogging.standardError())
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
