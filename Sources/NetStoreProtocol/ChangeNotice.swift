import NetStoreCore

/// One thing that changed in an account's tree, as the primary tells a
/// watching connection (docs/protocol.md, "Change notices"). A client drops
/// what it cached about it and asks again when it needs it.
public enum ChangeNotice: Sendable, Hashable {
    /// A node's attributes or content changed (size, times, mode, link count, blocks).
    case node(NodeID)
    /// The name `name` in directory `parent` appeared, disappeared or now names another node.
    case entry(parent: NodeID, name: String)
    /// Assume anything may have changed: notices were dropped (too many pending).
    case reset
    /// The server stopped watching for this connection (it is no longer the
    /// primary): assume anything may have changed, and watch on the primary.
    case ended

    /// The request id of every CHANGES frame; a client never uses it for a request.
    public static let frameRequestID = UInt64.max
}

/// The `notice` kind byte.
enum ChangeNoticeKind: UInt8 {
    case node = 1
    case entry = 2
    case reset = 3
    case ended = 4
}
