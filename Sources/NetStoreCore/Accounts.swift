public enum Role: UInt8, Sendable, Hashable, CaseIterable {
    case user = 0
    case admin = 1

    public var name: String { self == .admin ? "admin" : "user" }
}

/// An account as others may see it (no password hash).
public struct UserInfo: Sendable, Hashable {
    public var id: AccountID
    public var name: String
    public var role: Role
    /// The account's root directory: the top of everything it can reach.
    public var rootNode: NodeID
    public var createdNs: Int64

    public init(id: AccountID, name: String, role: Role, rootNode: NodeID, createdNs: Int64) {
        self.id = id
        self.name = name
        self.role = role
        self.rootNode = rootNode
        self.createdNs = createdNs
    }
}

/// What LOGIN and AUTH return.
public struct SessionInfo: Sendable, Hashable {
    /// The bearer token; empty in AUTH's reply (the client already has it).
    public var token: String
    public var user: UserInfo
    public var expiresNs: Int64

    public init(token: String, user: UserInfo, expiresNs: Int64) {
        self.token = token
        self.user = user
        self.expiresNs = expiresNs
    }
}
