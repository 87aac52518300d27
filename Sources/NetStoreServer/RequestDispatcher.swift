import Foundation
import NIOCore
import Logging
import NIOPosix
import NetStoreAuth
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage

/// Turns one request into one result: checks who is asking, then calls storage
/// or accounts. No sockets here, so it is tested in process.
public final class RequestDispatcher: Sendable {
    public static let softwareVersion = "0.1.0"

    let store: Store
    let accounts: AccountService
    /// Where mutations go: applied locally, or through the replicated log.
    let submitter: any MutationSubmitter
    let threadPool: NIOThreadPool
    let clock: @Sendable () -> Int64
    let logger: Logger
    let startedNs: Int64
    let role: String
    /// The replicated log: STATUS reports it, replication requests feed it.
    let replication: ReplicationEngine?
    /// The key other servers of the cluster present; nil when this server has no replicas.
    let clusterKey: ClusterKey?
    /// Where a damaged block's good copy comes from; nil on a server without replicas.
    let peerBlocks: PeerBlockFetcher?
    /// Each replica's address as the servers were given it, to name one to an admin.
    let replicaAddresses: [ReplicaID: String]

    public init(
        store: Store,
        accounts: AccountService,
        threadPool: NIOThreadPool,
        submitter: (any MutationSubmitter)? = nil,
        role: String = "primary",
        replication: ReplicationEngine? = nil,
        clusterKey: String? = nil,
        peerBlocks: PeerBlockFetcher? = nil,
        replicaAddresses: [ReplicaID: String] = [:],
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = AccountService.wallClock
    ) {
        self.store = store
        self.accounts = accounts
        self.threadPool = threadPool
        self.submitter = submitter ?? PooledSubmitter(store: store, threadPool: threadPool)
        self.role = role
        self.replication = replication
        self.clusterKey = clusterKey.map(ClusterKey.init)
        self.peerBlocks = peerBlocks
        self.replicaAddresses = replicaAddresses
        self.logger = logger
        self.clock = clock
        self.startedNs = clock()
    }

    public func handle(_ request: Request, session: ConnectionSession) async -> Result<Response, NetStoreError> {
        do {
            return .success(try await respond(to: request, session: session))
        } catch let error as NetStoreError {
            return .failure(error)
        } catch {
            logger.error("request failed", metadata: ["opcode": "\(request.opcode)", "error": "\(error)"])
            return .failure(NetStoreError(.io, "the server failed: \(error)"))
        }
    }

    private func respond(to request: Request, session: ConnectionSession) async throws -> Response {
        switch request {
        case .ping:
            return .empty
        case .status:
            let counts = try await storage { try self.store.counts() }
            let log = replication?.status
            return .status(ServerStatus(
                role: log?.roleName ?? role, softwareVersion: Self.softwareVersion,
                uptimeSeconds: UInt64(max(0, clock() - startedNs) / 1_000_000_000),
                nodeCount: counts.nodes, userCount: counts.users,
                blockCount: counts.blocks, blockBytes: counts.blockBytes,
                term: log?.term ?? 0, lastIndex: log?.lastIndex ?? 0,
                commitIndex: log?.commitIndex ?? 0, appliedIndex: log?.appliedIndex ?? 0))
        case let .replicate(from, message):
            try await requireReplica(session)
            return try await receiveReplication(from: from, message)
        case let .replicateWithBlocks(from, blocks, message):
            try await requireReplica(session)
            return try await receiveReplication(from: from, message, carrying: blocks)
        case let .replicateNotice(from, message):
            try await requireReplica(session)
            switch message {
            case .appendResponse:
                break
            case .append(let append) where EntryBlocks.noneReferenced(by: append.entries):
                break
            default:
                throw NetStoreError(.invalid, "only a backup's answer, or an append whose entries name no block, may be sent as a replicate notice: other messages need their reply")
            }
            return try await receiveReplication(from: from, message)
        case let .snapshotBegin(from, offer):
            try await requireReplica(session)
            return .snapshotReceived(try await beginSnapshot(from: from, offer))
        case let .snapshotChunk(from, sha256, offset, data):
            try await requireReplica(session)
            return .snapshotReceived(try await receiveSnapshotChunk(from: from, sha256: sha256, offset: offset, data: data))
        case let .replicaPutBlock(id, data):
            try await requireReplica(session)
            let now = self.now
            try await storage { [store] in
                try data.withUnsafeReadableBytes { try store.putBlock(id, bytes: $0, now: now) }
            }
            return .empty
        case let .replicaGetBlock(id):
            try await requireReplica(session)
            // Our own copy only: repairing it from peers here could send two servers asking each other.
            let bytes = try await storage { [store] in try store.getBlock(id) }
            return .block(ByteBuffer(bytes: bytes))
        case let .login(user, password):
            let info = try await accounts.login(user: user, password: password, source: session.peer)
            unwatch(session)
            await session.signIn(user: info.user, token: info.token)
            logger.info("login", metadata: ["user": "\(user)", "peer": "\(session.peer)"])
            return .session(info)
        case let .auth(token):
            if let clusterKey, clusterKey.matches(token) {
                if let certificate = session.certificate, !certificate.isPresented {
                    logger.warning("refused a replica without a certificate of the cluster's CA", metadata: ["peer": "\(session.peer)"])
                    throw NetStoreError(.accessDenied, "a server of this cluster must present its TLS certificate (signed by the cluster's CA): start it with --tls-cert, --tls-key and --tls-ca")
                }
                await session.markReplica()
                return .session(SessionInfo(
                    token: "", user: UserInfo(id: 0, name: "replica", role: .user, rootNode: 0, createdNs: 0),
                    expiresNs: Int64.max))
            }
            let info = try await storage { try self.accounts.authenticate(token: token) }
            unwatch(session)
            await session.signIn(user: info.user, token: token)
            return .session(info)
        case .logout:
            guard let token = await session.token else {
                throw NetStoreError(.notAuthenticated, "not logged in")
            }
            try await accounts.logout(token: token)
            unwatch(session)
            await session.signOut()
            return .empty
        case .watch:
            return try watch(session, user: try await currentUser(session))
        default:
            let user = try await currentUser(session)
            return try await respondAuthenticated(to: request, user: user, origin: session.id)
        }
    }

    /// The session's user, checked again against the token on every request so that
    /// a revoked token (logout elsewhere, password change) stops working at once.
    /// The check is read from the store only when users or sessions changed since
    /// the last one (the store's `accountsGeneration`) or the token expired.
    func currentUser(_ session: ConnectionSession) async throws -> UserInfo {
        // Read before the store: a change committed after this read raises it again.
        let generation = store.accountsGeneration.load(ordering: .acquiring)
        let (token, checked) = await session.tokenForCheck(generation: generation, now: now)
        guard let token else {
            throw NetStoreError(.notAuthenticated, "log in first (LOGIN or AUTH)")
        }
        if let checked { return checked }
        do {
            let info = try await storage { try self.accounts.authenticate(token: token) }
            await session.remember(.init(token: token, user: info.user, expiresNs: info.expiresNs, generation: generation))
            return info.user
        } catch let error as NetStoreError where error.code == .badToken {
            unwatch(session)
            await session.signOut()
            throw error
        }
    }

    /// Runs blocking SQLite and disk work off the event loops.
    func storage<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(body)
    }

    var now: Int64 { clock() }
}
