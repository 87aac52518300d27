import ArgumentParser
import NetStoreClient
import NetStoreCore
import NetStoreTLS
import NetStoreVFS

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in and save the session for later commands.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user name.") var user: String
    @Option(help: "Read the password from the first line of this file instead of asking.")
    var passwordFile: String?

    func run() async throws {
        let saved = try? global.sessionFile.load()
        let servers = try global.servers(saved: saved)
        try NameRules.validateUserName(user)
        let password = try passwordFile.map(Terminal.readPasswordFile)
            ?? Terminal.readPassword(prompt: "Password for \(user): ")
        let tlsCA = try global.tlsCAFile(saved: saved)
        let client = try global.client(servers: servers, credentials: .password(user: user, password: password), saved: saved)
        let session: SessionInfo
        var server = ""
        do {
            session = try await client.requireSession()
            server = client.currentServer.map { " on \($0)" } ?? ""
            try global.sessionFile.save(SavedSession(user: session.user.name, token: session.token, servers: servers, tlsCA: tlsCA))
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        Terminal.printError("logged in as \(session.user.name) (\(session.user.role.name))\(server)")
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke the session's token on the server and forget it here.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let file = global.sessionFile
        guard let saved = try file.load() else { throw NetStoreError(.notAuthenticated, "not logged in") }
        let client = try global.client(servers: try global.servers(saved: saved), credentials: .token(saved.token), saved: saved)
        do {
            try await client.logout()
        } catch where error.code == .badToken {
            // The server no longer knows the token: it is as revoked as it can be.
        } catch {
            await client.close()
            throw NetStoreError(error.code, "\(CommandFailure.describe(error)); the session was kept: "
                + "run 'netstore logout' again once a server answers, or delete \(file.path)")
        }
        try file.delete()
        Terminal.printError("logged out \(saved.user)")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each server's role, uptime, counts and replication position.",
        discussion: "Also lists this machine's write-back journals that hold changes not yet on the servers, or refused ones.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("cache"), help: "The cache directory of the write-back mounts to report on, as given with -o cache=DIR (default: $XDG_CACHE_HOME/netstore or ~/.cache/netstore).")
    var cacheDirectory: String?

    func run() async throws {
        let saved = try? global.sessionFile.load()
        let servers = try global.servers(saved: saved)
        let tls = try global.tlsCAFile(saved: saved).map { path throws(NetStoreError) in try ClientTLS(caFile: path) }
        let probes = await ClusterStatus.probe(servers, token: saved?.token, tls: tls, logger: ClientLogging.standardError())
        var failed = false
        let primary = ReplicationLag.primary(among: probes.compactMap { try? $0.result.get() })
        for probe in probes {
            switch probe.result {
            case .success(let status):
                let lag = primary.map { ReplicationLag(of: status, primary: $0).description } ?? "unknown (no primary reachable)"
                print("\(probe.server)  \(status.role)  up \(Formatting.duration(seconds: status.uptimeSeconds))"
                    + "  version \(status.softwareVersion)  nodes \(status.nodeCount)  users \(status.userCount)"
                    + "  blocks \(status.blockCount) (\(ByteCount.format(status.blockBytes)))"
                    + "  term \(status.term)  log \(status.lastIndex)  commit \(status.commitIndex)  applied \(status.appliedIndex)"
                    + "  lag \(lag)")
            case .failure(let error):
                failed = true
                print("\(probe.server)  unreachable: \(CommandFailure.describe(error))")
            }
        }
        // Write-back mounts of this machine (docs/mount.md, "Write-back mode").
        for journal in StagingJournalSummary.all(in: cacheDirectory ?? VFSConfiguration.defaultCacheDirectory())
        where journal.pending > 0 || journal.refused > 0 {
            var line = "write-back journal \(journal.directory): \(journal.pending) change\(journal.pending == 1 ? "" : "s") not on the servers yet"
            if journal.refused > 0 {
                line += "; \(journal.refused) refused by the servers, see \(journal.failedNote)"
            }
            print(line)
        }
        if failed { throw ExitCode.failure }
    }
}

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a backup the primary (admin), e.g. after the primary died.",
        discussion: "Refused, with the reason, unless that backup holds every change a majority acknowledged; the refusal names a backup that is further ahead.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The backup to promote, HOST:PORT.") var target: String

    func run() async throws {
        let address = try ServerAddress(parsing: target)
        guard let saved = try global.sessionFile.load() else {
            throw NetStoreError(.notAuthenticated, "not logged in")
        }
        // Only the target: the old primary may be gone, and promotion is asked of the backup itself.
        let client = try global.client(servers: [address], credentials: .token(saved.token), saved: saved)
        do {
            try await client.promote()
            await client.close()
        } catch {
            await client.close()
            throw error
        }
        Terminal.printError("\(address) is now the primary")
    }
}
