/// One name to remove: a file's (as unlink) or an empty directory's (as rmdir).
public struct EntryRemoval: Sendable, Hashable {
    public var parent: NodeID
    public var name: String
    public var isDirectory: Bool

    public init(parent: NodeID, name: String, isDirectory: Bool) {
        self.parent = parent
        self.name = name
        self.isDirectory = isDirectory
    }
}
