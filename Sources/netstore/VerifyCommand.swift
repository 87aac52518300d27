import ArgumentParser
import NetStoreClient
import NetStoreCore
import NetStoreTLS
import Synchronization

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the cluster (admin): servers agree, and every block is present and intact.",
        discussion: """
            Asks every server (--server, or the session's list) for its state digest and compares \
            them at the same applied index, then has every server read every block it holds and \
            check it against its hash. Exits with 1 when anything is wrong. With --repair, each \
            missing or damaged block is copied from a server with a good copy, then all is checked again.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Copy a good copy of every missing or damaged block from another server, then check again.")
    var repair = false
    @Option(help: "How long to wait for every server to reach the same applied index, in seconds.")
    var catchUp: Int = 10

    func run() async throws {
        guard let saved = try global.sessionFile.load() else {
            throw NetStoreError(.notAuthenticated, "not logged in")
        }
        let servers = try global.servers(saved: saved)
        let verifier = ClusterVerifier(
            servers: servers, token: saved.token, catchUp: .seconds(max(0, catchUp)),
            tls: try global.tlsCAFile(saved: saved).map { path throws(NetStoreError) in try ClientTLS(caFile: path) },
            logger: ClientLogging.standardError())
        let report = await verifier.verify(progress: Self.progress(servers))
        Self.print(report)
        guard !report.isHealthy else {
            await verifier.close()
            Terminal.printError("verify: all \(servers.count) servers agree and every block is intact")
            return
        }
        guard repair else {
            await verifier.close()
            Terminal.printError("verify: " + Self.advice(report))
            throw ExitCode.failure
        }
        let repairs = await verifier.repair(report)
        for repair in repairs {
            if let failure = repair.failure {
                Swift.print("\(repair.server)  NOT repaired block \(repair.block.hex): \(failure)")
            } else {
                Swift.print("\(repair.server)  repaired block \(repair.block.hex) from \(repair.source.map { "\($0)" } ?? "?")")
            }
        }
        Swift.print("checking again:")
        let after = await verifier.verify(progress: Self.progress(servers))
        await verifier.close()
        Self.print(after)
        if after.isHealthy {
            Terminal.printError("verify: repaired \(repairs.filter { $0.failure == nil }.count) blocks; all \(servers.count) servers agree and every block is intact")
            return
        }
        Terminal.printError("verify: still wrong after repair: " + Self.advice(after))
        throw ExitCode.failure
    }

    /// On a terminal, a line on standard error counting the blocks each server
    /// has checked so far (a big store takes a while); nothing otherwise.
    static func progress(_ servers: [ServerAddress]) -> (@Sendable (ServerAddress, Int) -> Void)? {
        guard Terminal.standardErrorIsTerminal else { return nil }
        let counts = Mutex([ServerAddress: Int]())
        return { server, checked in
            let line = counts.withLock { counts in
                counts[server] = checked
                return servers.map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: "  ")
            }
            Terminal.writeAll(2, "\rchecking blocks: \(line)\u{1B}[K")
        }
    }

    /// One line per server, then one per problem found on it.
    static func print(_ report: ClusterVerifier.Report) {
        if Terminal.standardErrorIsTerminal { Terminal.writeAll(2, "\r\u{1B}[K") }
        for check in report.servers {
            var line = "\(check.server)  \(check.isHealthy ? "ok" : "PROBLEM")"
            if let digest = check.digest { line += "  applied \(digest.appliedIndex)  digest \(digest.hex.prefix(16))" }
            if check.failure == nil || check.blocksChecked > 0 {
                line += "  blocks \(check.blocksChecked) checked (\(ByteCount.format(check.bytesChecked)))"
                    + "  \(check.missing.count) missing  \(check.corrupt.count) corrupt"
            }
            Swift.print(line)
            if let failure = check.failure {
                Swift.print("    cannot check this server: \(CommandFailure.describe(failure))")
            }
            switch check.verdict {
            case .agrees, .unknown: break
            case .differs:
                Swift.print("    state digest differs from the other servers' at the same applied index: this server's metadata diverged")
            case .undecided:
                Swift.print("    state digests disagree at the same applied index and no majority says which is right")
            case .behind(let applied, let others):
                Swift.print("    applied index \(applied) is behind the others' \(others): it did not catch up in time")
            }
            for id in check.missing.prefix(20) { Swift.print("    missing block \(id.hex)") }
            for id in check.corrupt.prefix(20) { Swift.print("    corrupt block \(id.hex)") }
            let more = max(0, check.missing.count - 20) + max(0, check.corrupt.count - 20)
            if more > 0 { Swift.print("    ... and \(more) more") }
        }
    }

    /// What is wrong, in one sentence, and what to do about it.
    static func advice(_ report: ClusterVerifier.Report) -> String {
        var parts: [String] = []
        let damaged = report.servers.reduce(0) { $0 + $1.missing.count + $1.corrupt.count }
        if damaged > 0 {
            let servers = report.servers.filter { !$0.damaged.isEmpty }.count
            parts.append("\(damaged) missing or corrupt blocks on \(servers) servers: run 'netstore verify --repair' to copy good ones from the other servers")
        }
        if report.servers.contains(where: { $0.failure != nil }) {
            parts.append("some servers could not be checked: start them (see 'netstore status') and log in as an admin, then run 'netstore verify' again")
        }
        if report.servers.contains(where: { if case .behind = $0.verdict { return true } else { return false } }) {
            parts.append("some servers did not reach the same applied index: run 'netstore verify' again when writes are quiet, or check 'netstore status'")
        }
        if report.servers.contains(where: { $0.verdict == .differs || $0.verdict == .undecided }) {
            parts.append("state digests differ: a server whose metadata diverged must be rebuilt from the primary (stop it, move its data directory aside, start it again empty)")
        }
        return parts.joined(separator: "; ")
    }
}
