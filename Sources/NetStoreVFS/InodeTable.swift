import Logging
import NetStoreCore
import Synchronization

/// The kernel's inode numbers and how many lookups the kernel holds on each.
///
/// Kernel inode 1 is the account's root directory; every other inode number is
/// the NetStore node id. If the root's node id is not 1, node 1 (never visible
/// to this account in practice) takes the root's number, so the mapping stays
/// one to one.
///
/// Every entry the kernel receives (lookup, create, mkdir, mknod, symlink,
/// link, a readdirplus entry) adds one lookup; FORGET removes some. A count
/// never goes negative: a FORGET for more than is held is clamped and logged.
///
/// A file this mount makes at its first close (docs/mount.md, "Files made at
/// close") gets a provisional inode number first, at or above
/// `provisionalBase` (far above any node id a server allocates). Once the
/// server has made it, the number stands for its node until the kernel forgets
/// it, so the kernel keeps one inode for the file throughout.
public final class InodeTable: Sendable {
    public static let rootInode: UInt64 = 1
    public static let provisionalBase: UInt64 = 1 << 62

    private struct Provisional {
        var next = InodeTable.provisionalBase
        var nodes: [UInt64: NodeID] = [:]
        var inodes: [NodeID: UInt64] = [:]
    }

    public let rootNode: NodeID
    private let logger: Logger
    private let counts = Mutex<[UInt64: UInt64]>([:])
    private let provisional = Mutex(Provisional())
    /// Resolved provisional numbers; while none, no lookup takes the lock.
    private let resolvedCount = Atomic<Int>(0)

    public init(rootNode: NodeID, logger: Logger) {
        self.rootNode = rootNode
        self.logger = logger
    }

    public func inode(of node: NodeID) -> UInt64 {
        if node == rootNode { return Self.rootInode }
        if node == Self.rootInode { return rootNode }
        if resolvedCount.load(ordering: .acquiring) > 0, let inode = provisional.withLock({ $0.inodes[node] }) { return inode }
        return node
    }

    /// The node of `inode`; a provisional number not yet resolved is returned
    /// as it is, a node id no server has (so a request naming it finds nothing).
    public func node(of inode: UInt64) -> NodeID {
        if inode == Self.rootInode { return rootNode }
        if inode == rootNode { return Self.rootInode }
        if inode >= Self.provisionalBase, let node = provisional.withLock({ $0.nodes[inode] }) { return node }
        return inode
    }

    /// A new provisional inode number, for a file the server has not made yet.
    public func newProvisionalInode() -> UInt64 {
        provisional.withLock { p in
            defer { p.next += 1 }
            return p.next
        }
    }

    /// The server made `node` for the provisional `inode`: the number stands for
    /// it until the kernel forgets the number.
    public func resolve(_ inode: UInt64, to node: NodeID) {
        precondition(inode >= Self.provisionalBase, "only provisional inode numbers are resolved")
        provisional.withLock { p in
            if p.nodes.updateValue(node, forKey: inode) == nil { resolvedCount.add(1, ordering: .releasing) }
            p.inodes[node] = inode
        }
    }

    private func dropProvisional(_ inode: UInt64) {
        guard inode >= Self.provisionalBase else { return }
        provisional.withLock { p in
            guard let node = p.nodes.removeValue(forKey: inode) else { return }
            if p.inodes[node] == inode { p.inodes.removeValue(forKey: node) }
            resolvedCount.subtract(1, ordering: .releasing)
        }
    }

    /// The kernel now holds one more lookup of `inode`.
    public func remember(_ inode: UInt64) {
        counts.withLock { $0[inode, default: 0] += 1 }
    }

    /// The kernel dropped `count` lookups of `inode`; returns true when none are left.
    @discardableResult
    public func forget(_ inode: UInt64, count: UInt64) -> Bool {
        let (left, excess) = counts.withLock { counts -> (UInt64, UInt64) in
            let held = counts[inode] ?? 0
            let dropped = min(held, count)
            let left = held - dropped
            if left == 0 { counts.removeValue(forKey: inode) } else { counts[inode] = left }
            return (left, count - dropped)
        }
        if excess > 0 {
            logger.warning("forget of more lookups than held", metadata: ["inode": "\(inode)", "excess": "\(excess)"])
        }
        // The kernel no longer knows the number: its node goes by its own id again.
        if left == 0 { dropProvisional(inode) }
        return left == 0
    }

    /// The lookups the kernel holds on `inode`.
    public func lookupCount(_ inode: UInt64) -> UInt64 {
        counts.withLock { $0[inode] ?? 0 }
    }

    /// The inodes the kernel holds at least one lookup on, the root first.
    public var knownInodes: [UInt64] {
        [Self.rootInode] + counts.withLock { $0.keys.filter { $0 != Self.rootInode } }
    }

    /// Whether the kernel may have `inode` cached (the root always).
    public func isKnown(_ inode: UInt64) -> Bool {
        inode == Self.rootInode || lookupCount(inode) > 0
    }

    /// How many inodes the kernel holds at least one lookup on.
    public var rememberedCount: Int { counts.withLock { $0.count } }
}
