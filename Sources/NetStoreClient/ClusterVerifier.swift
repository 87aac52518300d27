import Logging
import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreTLS

/// `netstore verify`: compares every server's state digest and has every
/// server check every block it holds; `repair` then copies a good copy of each
/// missing or damaged block from another server. Each server gets its own
/// client, so one unreachable server does not hide the others.
public final class ClusterVerifier: Sendable {
    /// What one server was found to be.
    public struct ServerCheck: Sendable {
        public var server: ServerAddress
        public var digest: StateDigest?
        public var verdict: DigestVerdict = .unknown
        public var blocksChecked = 0
        public var bytesChecked: UInt64 = 0
        public var missing: [BlockID] = []
        public var corrupt: [BlockID] = []
        /// Why the server could not be (fully) checked.
        public var failure: NetStoreError?

        public var damaged: [BlockID] { (missing + corrupt).sorted() }
        public var isHealthy: Bool { failure == nil && verdict.isGood && missing.isEmpty && corrupt.isEmpty }
    }

    public struct Report: Sendable {
        public var servers: [ServerCheck]
        public var isHealthy: Bool { servers.allSatisfy(\.isHealthy) }
    }

    /// One block given to one server by `repair`.
    public struct Repair: Sendable {
        public var server: ServerAddress
        public var block: BlockID
        /// The server the good copy came from; nil when none had one.
        public var source: ServerAddress?
        /// Why it could not be repaired; nil when it was.
        public var failure: String?
    }

    public let servers: [ServerAddress]
    private let clients: [NetStoreClient]
    private let catchUp: Duration
    /// Blocks checked per request; a server also cuts a page short after enough bytes.
    private let pageSize: UInt32

    public init(
        servers: [ServerAddress], token: String, catchUp: Duration = .seconds(10), pageSize: UInt32 = 1024,
        tls: ClientTLS? = nil, logger: Logger = Logger(label: "netstore.client")
    ) {
        precondition(!servers.isEmpty, "verify needs at least one server")
        self.servers = servers
        self.catchUp = catchUp
        self.pageSize = pageSize
        clients = servers.map { NetStoreClient(servers: [$0], credentials: .token(token), logger: logger, tls: tls) }
    }

    public func close() async {
        for client in clients { await client.close() }
    }

    /// Digests first (waiting up to `catchUp` for every server to reach the same
    /// applied index), then every server's blocks, servers in parallel.
    /// `progress` hears each server's running count of blocks checked.
    public func verify(progress: (@Sendable (ServerAddress, Int) -> Void)? = nil) async -> Report {
        var checks = servers.map { ServerCheck(server: $0) }
        let digests = await digestsAtOneIndex()
        let verdicts = DigestComparison.evaluate(digests.map { try? $0.get() })
        for index in checks.indices {
            checks[index].verdict = verdicts[index]
            switch digests[index] {
            case .success(let digest): checks[index].digest = digest
            case .failure(let error): checks[index].failure = error
            }
        }
        await withTaskGroup(of: (Int, ServerCheck).self) { group in
            for (index, check) in checks.enumerated() where check.failure == nil {
                group.addTask { (index, await self.checkBlocks(of: check, client: self.clients[index], progress: progress)) }
            }
            for await (index, check) in group { checks[index] = check }
        }
        return Report(servers: checks)
    }

    /// For every missing or corrupt block of `report`, a good copy from another
    /// server (GET_BLOCK, checked against the id) given to the damaged one
    /// (REPAIR_BLOCK, which the server checks again and never applies over a good copy).
    public func repair(_ report: Report) async -> [Repair] {
        var repairs: [Repair] = []
        for (index, check) in report.servers.enumerated() {
            for id in check.damaged {
                repairs.append(await repair(id, on: index))
            }
        }
        return repairs
    }

    private func repair(_ id: BlockID, on target: Int) async -> Repair {
        var reasons: [String] = []
        for source in servers.indices where source != target {
            let data: ByteBuffer
            do throws(NetStoreError) {
                data = try await clients[source].getBlock(id)
                guard BlockReaders.hash(of: data) == id.bytes else {
                    throw NetStoreError(.corruptBlock, "its copy failed the hash check")
                }
            } catch {
                reasons.append("\(servers[source]): \(error.message)")
                continue
            }
            do throws(NetStoreError) {
                try await clients[target].repairBlock(id, data: data)
                return Repair(server: servers[target], block: id, source: servers[source])
            } catch {
                return Repair(server: servers[target], block: id, source: servers[source],
                              failure: "\(servers[target]) refused the good copy: \(error.message)")
            }
        }
        let why = reasons.isEmpty ? "no other server to copy it from" : "no good copy elsewhere (\(reasons.joined(separator: "; ")))"
        return Repair(server: servers[target], block: id, source: nil, failure: why)
    }

    /// Every server's digest, asked again until all reachable servers report the
    /// same applied index or `catchUp` has passed (a backup applies an entry a
    /// moment after the primary).
    private func digestsAtOneIndex() async -> [Result<StateDigest, NetStoreError>] {
        let deadline = ContinuousClock.now + catchUp
        while true {
            let digests = await allDigests()
            if DigestComparison.atSameIndex(digests.map { try? $0.get() }) || ContinuousClock.now >= deadline {
                return digests
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private func allDigests() async -> [Result<StateDigest, NetStoreError>] {
        await withTaskGroup(of: (Int, Result<StateDigest, NetStoreError>).self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    do throws(NetStoreError) {
                        return (index, .success(try await client.digest()))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results = [Result<StateDigest, NetStoreError>](repeating: .failure(NetStoreError(.io, "not asked")), count: clients.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    private func checkBlocks(
        of check: ServerCheck, client: NetStoreClient, progress: (@Sendable (ServerAddress, Int) -> Void)?
    ) async -> ServerCheck {
        var check = check
        var after = BlockID.hole
        do throws(NetStoreError) {
            while true {
                let page = try await client.checkBlocks(after: after, limit: pageSize)
                check.blocksChecked += Int(page.checked)
                check.bytesChecked += page.bytesChecked
                for problem in page.problems {
                    switch problem.kind {
                    case .missing: check.missing.append(problem.id)
                    case .corrupt: check.corrupt.append(problem.id)
                    }
                }
                progress?(check.server, check.blocksChecked)
                if page.isLast { break }
                guard page.checked > 0, after < page.last else {
                    throw NetStoreError(.protocolError, "\(check.server) returned a block check page that does not advance")
                }
                after = page.last
            }
        } catch {
            check.failure = error
        }
        return check
    }
}
