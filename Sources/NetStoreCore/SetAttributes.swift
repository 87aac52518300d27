/// The attributes a SETATTR changes; nil leaves one as it is.
public struct SetAttributes: Sendable, Hashable {
    public enum TimeChange: Sendable, Hashable {
        /// The server's clock at the moment it applies the change (UTIME_NOW).
        case now
        case nanoseconds(Int64)
    }

    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// Truncates or extends (with zeros) the file's content.
    public var size: UInt64?
    public var atime: TimeChange?
    public var mtime: TimeChange?

    public init(
        mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: UInt64? = nil,
        atime: TimeChange? = nil, mtime: TimeChange? = nil
    ) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.atime = atime
        self.mtime = mtime
    }
}

/// RENAME's flags, as renameat2(2).
public struct RenameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Fail with EEXIST rather than replace an existing target.
    public static let noReplace = RenameFlags(rawValue: 1)
    /// Swap source and target atomically; both must exist.
    public static let exchange = RenameFlags(rawValue: 2)
}
