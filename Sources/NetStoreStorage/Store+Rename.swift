import GRDB
import NetStoreCore

extension Store {
    /// Moves an entry, with renameat2(2)'s rules: a replaced target loses a link,
    /// `.noReplace` refuses to replace, `.exchange` swaps two existing entries.
    func rename(in db: Database, account: AccountID, parent: NodeID, name: String, newParent: NodeID, newName: String, flags: RenameFlags, now: Int64) throws {
        try NameRules.validateEntryName(name)
        try NameRules.validateEntryName(newName)
        if !flags.subtracting([.noReplace, .exchange]).isEmpty {
            throw NetStoreError(.invalid, "unknown rename flags \(flags.rawValue)")
        }
        if flags.contains(.noReplace) && flags.contains(.exchange) {
            throw NetStoreError(.invalid, "rename cannot both exchange and refuse to replace")
        }
        do {
            _ = try NodeRows.requireDirectory(db, parent, account: account)
            let destination = try NodeRows.requireDirectory(db, newParent, account: account)
            let source = try NodeRows.requireEntry(db, parent: parent, name: name)
            let target = try NodeRows.entry(db, parent: newParent, name: newName)
            if flags.contains(.exchange) {
                guard let target else {
                    throw NetStoreError(.noEntry, "'\(newName)' does not exist in directory \(newParent): an exchange needs both entries")
                }
                try Self.exchange(db, source: (parent, source.id, source.node), target: (newParent, target.id, target.node), now: now)
                return
            }
            if let target {
                if flags.contains(.noReplace) {
                    throw NetStoreError(.exists, "'\(newName)' already exists in directory \(newParent)")
                }
                // Two names of one node: POSIX says do nothing.
                if target.node.id == source.node.id { return }
            }
            let moving = source.node
            if moving.kind == .directory, try Self.isWithin(db, newParent, directory: moving.id) {
                throw NetStoreError(.invalid, "cannot move directory '\(name)' into itself or its own subdirectory")
            }
            // The two parents may be one directory.
            var links = Dictionary([(parent, 0), (newParent, 0)], uniquingKeysWith: +)
            if let replaced = target?.node {
                if moving.kind == .directory {
                    guard replaced.kind == .directory else {
                        throw NetStoreError(.notDirectory, "cannot replace '\(newName)' in directory \(newParent) with a directory: it is not one")
                    }
                    if try !NodeRows.isEmptyDirectory(db, replaced.id) {
                        throw NetStoreError(.notEmpty, "cannot replace directory '\(newName)': it is not empty")
                    }
                    links[newParent, default: 0] -= 1
                } else if replaced.kind == .directory {
                    throw NetStoreError(.isDirectory, "cannot replace directory '\(newName)' with a non-directory")
                }
            }
            if moving.kind == .directory {
                links[parent, default: 0] -= 1
                links[newParent, default: 0] += 1
            }
            if links[newParent, default: 0] > 0 && destination.nlink >= Limits.maxLinks {
                throw NetStoreError(.tooManyLinks, "directory \(newParent) has the most subdirectories allowed")
            }

            try NodeRows.deleteEntry(db, id: source.id)
            if let target {
                try NodeRows.deleteEntry(db, id: target.id)
                try NodeRows.dropLink(db, target.node, now: now)
            }
            // A new entry id: a listing in progress sees the moved entry at the end, as a new one.
            try NodeRows.insertEntry(db, parent: newParent, name: newName, node: moving.id)
            try NodeRows.touchChange(db, moving.id, now: now)
            for directory in links.keys.sorted() {
                try NodeRows.touchDirectory(db, directory, nlinkDelta: links[directory, default: 0], now: now)
            }
        }
    }

    private typealias Side = (parent: NodeID, entry: Int64, node: NodeAttributes)

    /// RENAME_EXCHANGE: each entry now names the other's node.
    private static func exchange(_ db: Database, source: Side, target: Side, now: Int64) throws {
        if source.entry == target.entry || source.node.id == target.node.id { return }
        if source.node.kind == .directory, try isWithin(db, target.parent, directory: source.node.id) {
            throw NetStoreError(.invalid, "cannot exchange a directory with an entry inside it")
        }
        if target.node.kind == .directory, try isWithin(db, source.parent, directory: target.node.id) {
            throw NetStoreError(.invalid, "cannot exchange a directory with an entry inside it")
        }
        let update = try db.cachedStatement(sql: "UPDATE entries SET node = ? WHERE id = ?")
        try update.execute(arguments: [Int64(target.node.id), source.entry])
        try update.execute(arguments: [Int64(source.node.id), target.entry])
        var links = Dictionary([(source.parent, 0), (target.parent, 0)], uniquingKeysWith: +)
        if source.node.kind == .directory {
            links[source.parent, default: 0] -= 1
            links[target.parent, default: 0] += 1
        }
        if target.node.kind == .directory {
            links[target.parent, default: 0] -= 1
            links[source.parent, default: 0] += 1
        }
        for (directory, change) in links where change > 0 {
            let nlink = try Int64.fetchOne(db, sql: "SELECT nlink FROM nodes WHERE id = ?", arguments: [Int64(directory)]) ?? 0
            if nlink >= Int64(Limits.maxLinks) {
                throw NetStoreError(.tooManyLinks, "directory \(directory) has the most subdirectories allowed")
            }
        }
        try NodeRows.touchChange(db, source.node.id, now: now)
        try NodeRows.touchChange(db, target.node.id, now: now)
        for directory in links.keys.sorted() {
            try NodeRows.touchDirectory(db, directory, nlinkDelta: links[directory]!, now: now)
        }
    }

    /// Whether directory `candidate` is `directory` or lies beneath it.
    static func isWithin(_ db: Database, _ candidate: NodeID, directory: NodeID) throws -> Bool {
        var current = candidate
        // Every step goes one level up; a tree deeper than this would be a cycle.
        for _ in 0 ..< 1_000_000 {
            if current == directory { return true }
            guard let up = try NodeRows.parentOfDirectory(db, current) else { return false }
            current = up
        }
        preconditionFailure("directory \(candidate) has no root: the namespace has a cycle")
    }
}
