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
public final class InodeTable: Sendable {
    public static let rootInode: UInt64 = 1

    public let rootNode: NodeID
    private let logger: Logger
    private let counts = Mutex<[UInt64: UInt64]>([:])

    public init(rootNode: NodeID, logger: Logger) {
        self.rootNode = rootNode
        self.logger = logger
    }

    public func inode(of node: NodeID) -> UInt64 {
        if node == rootNode { return Self.rootInode }
        if node == Self.rootInode { return rootNode }
        return node
    }

    public func node(of inode: UInt64) -> NodeID {
        if inode == Self.rootInode { return rootNode }
        if inode == rootNode { return Self.rootInode }
        return inode
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
