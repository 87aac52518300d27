/// A node's id is the inode number the mount shows. Ids are never reused.
public typealias NodeID = UInt64
/// The id of an account (a user); every node belongs to exactly one account.
public typealias AccountID = UInt64

public enum NodeKind: UInt8, Sendable, Hashable, CaseIterable {
    case file = 1
    case directory = 2
    case symlink = 3
    case fifo = 4
    /// A unix socket's name; the socket itself lives in the kernel that bound it.
    case socket = 5
    case characterDevice = 6
    case blockDevice = 7

    /// Kinds whose nodes carry a device number (`NodeAttributes.rdev`).
    public var isDevice: Bool { self == .characterDevice || self == .blockDevice }
}

/// A node's POSIX attributes as stored. Times are nanoseconds since the Unix epoch.
public struct NodeAttributes: Sendable, Hashable {
    public var id: NodeID
    public var kind: NodeKind
    /// Permission bits only (0o7777); the file type is `kind`.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var nlink: UInt32
    public var size: UInt64
    public var atimeNs: Int64
    public var mtimeNs: Int64
    public var ctimeNs: Int64
    /// Bumped by every change of content; COMMIT names the version it replaces.
    public var version: UInt64
    /// A device node's device number in Linux's encoding (as `makedev` makes it);
    /// zero for every other kind.
    public var rdev: UInt64

    public init(
        id: NodeID, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32, nlink: UInt32,
        size: UInt64, atimeNs: Int64, mtimeNs: Int64, ctimeNs: Int64, version: UInt64, rdev: UInt64 = 0
    ) {
        self.id = id
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.nlink = nlink
        self.size = size
        self.atimeNs = atimeNs
        self.mtimeNs = mtimeNs
        self.ctimeNs = ctimeNs
        self.version = version
        self.rdev = rdev
    }
}

/// A directory entry with its node's attributes (what READDIR returns).
public struct DirectoryEntry: Sendable, Hashable {
    public var name: String
    public var attributes: NodeAttributes
    /// Pass as `after` to READDIR to continue after this entry.
    public var cookie: UInt64

    public init(name: String, attributes: NodeAttributes, cookie: UInt64) {
        self.name = name
        self.attributes = attributes
        self.cookie = cookie
    }
}

/// One page of a directory listing.
public struct DirectoryPage: Sendable, Hashable {
    public var entries: [DirectoryEntry]
    /// True when no entries follow this page.
    public var isLast: Bool

    public init(entries: [DirectoryEntry], isLast: Bool) {
        self.entries = entries
        self.isLast = isLast
    }
}
