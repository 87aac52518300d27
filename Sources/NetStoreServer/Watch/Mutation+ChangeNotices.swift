import NetStoreCore
import NetStoreProtocol
import NetStoreStorage

extension Mutation {
    /// The account whose tree this mutation changes, and what a client watching
    /// that account must drop from its caches once it is applied; nil for
    /// mutations of users and sessions, which change no file.
    ///
    /// Only what the mutation names: the node an unlink, rmdir or rename takes
    /// a name from (its link count and ctime move) is not named by the
    /// mutation, so a client learns those with its next lookup of a name.
    public var changeNotices: (account: AccountID, notices: [ChangeNotice])? {
        switch self {
        case let .mkdir(account, parent, name, _, _, _, _),
             let .mknod(account, parent, name, _, _, _, _, _, _),
             let .createFile(account, parent, name, _, _, _, _, _, _),
             let .symlink(account, parent, name, _, _, _, _),
             let .unlink(account, parent, name, _),
             let .rmdir(account, parent, name, _):
            // The directory's mtime, ctime (and for mkdir/rmdir its link count) move too.
            return (account, [.entry(parent: parent, name: name), .node(parent)])
        case let .link(account, node, newParent, newName, _):
            return (account, [.entry(parent: newParent, name: newName), .node(newParent), .node(node)])
        case let .rename(account, parent, name, newParent, newName, _, _):
            var notices: [ChangeNotice] = [.entry(parent: parent, name: name), .entry(parent: newParent, name: newName), .node(parent)]
            if newParent != parent { notices.append(.node(newParent)) }
            return (account, notices)
        case let .createFiles(account, files, _):
            return (account, Self.notices(names: files.map { ($0.parent, $0.name) }))
        case let .removeEntries(account, entries, _):
            return (account, Self.notices(names: entries.map { ($0.parent, $0.name) }))
        case let .setattr(account, node, _, _), let .commit(account, node, _, _, _, _):
            return (account, [.node(node)])
        case .addUser, .setPassword, .removeUser, .createSession, .deleteSession, .pruneSessions:
            return nil
        }
    }

    /// Each name made or removed, and each of their directories once (its mtime moved).
    private static func notices(names: [(parent: NodeID, name: String)]) -> [ChangeNotice] {
        var notices: [ChangeNotice] = []
        var parents = Set<NodeID>()
        for (parent, name) in names {
            notices.append(.entry(parent: parent, name: name))
            if parents.insert(parent).inserted { notices.append(.node(parent)) }
        }
        return notices
    }
}
