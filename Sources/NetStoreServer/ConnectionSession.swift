import NetStoreCore

/// What one connection has proven about itself: nobody until LOGIN or AUTH succeeds.
public actor ConnectionSession {
    public let peer: String
    public private(set) var user: UserInfo?
    /// The token this connection authenticated with, so LOGOUT can revoke it.
    private(set) var token: String?

    public init(peer: String) {
        self.peer = peer
    }

    func signIn(user: UserInfo, token: String) {
        self.user = user
        self.token = token
    }

    func signOut() {
        user = nil
        token = nil
    }

    func refresh(user: UserInfo) {
        self.user = user
    }
}
