import NetStoreCore
import Synchronization

/// What one connection has proven about itself: nobody until LOGIN or AUTH succeeds.
public actor ConnectionSession {
    public let peer: String
    public private(set) var user: UserInfo?
    /// The token this connection authenticated with, so LOGOUT can revoke it.
    private(set) var token: String?
    /// True once the peer proved it is another server of this cluster (AUTH with the cluster key).
    public private(set) var isReplica = false

    /// On a TLS connection, whether the peer presented a certificate of the cluster's CA;
    /// nil on a plain one (which has only the cluster key to prove itself with).
    public nonisolated let certificate: PeerCertificate?

    /// Names this connection among the server's (a WATCH, a change's origin).
    public nonisolated let id: UInt64
    /// Change notices on their way to this connection once it WATCHes.
    public nonisolated let outbox: NoticeOutbox

    private static let nextID = Atomic<UInt64>(1)

    public init(peer: String, certificate: PeerCertificate? = nil, pendingNoticeLimit: Int = ChangeFeed.defaultPendingLimit) {
        self.peer = peer
        self.certificate = certificate
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.outbox = NoticeOutbox(limit: pendingNoticeLimit)
    }

    func signIn(user: UserInfo, token: String) {
        self.user = user
        self.token = token
    }

    func markReplica() {
        isReplica = true
    }

    func signOut() {
        user = nil
        token = nil
        lastCheck = nil
    }

    /// The last successful check of this connection's token: its user and expiry,
    /// valid while the store's `accountsGeneration` is still `generation`.
    struct TokenCheck: Sendable {
        let token: String
        let user: UserInfo
        let expiresNs: Int64
        let generation: UInt64
    }

    private var lastCheck: TokenCheck?

    /// The token and, if it still holds for `generation` at `now`, the user its last check found.
    func tokenForCheck(generation: UInt64, now: Int64) -> (token: String?, user: UserInfo?) {
        guard let token else { return (nil, nil) }
        if let check = lastCheck, check.token == token, check.generation == generation, now < check.expiresNs {
            return (token, check.user)
        }
        return (token, nil)
    }

    func remember(_ check: TokenCheck) {
        guard check.token == token else { return }
        lastCheck = check
        user = check.user
    }
}
