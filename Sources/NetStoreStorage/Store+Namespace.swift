import Foundation
import GRDB
import NetStoreCore

extension Store {
    // MARK: namespace

    public func lookup(account: AccountID, parent: NodeID, name: String) throws -> NodeAttributes {
        try NameRules.validateEntryName(name)
        return try read { db in
            _ = try NodeRows.requireDirectory(db, parent, account: account)
            return try NodeRows.requireEntry(db, parent: parent, name: name).node
        }
    }

    public func getattr(account: AccountID, node: NodeID) throws -> NodeAttributes {
        try read { db in try NodeRows.require(db, node, account: account) }
    }

    /// The entries after `cookie` (0 for the first page), in the order they were
    /// made, with their attributes: one indexed query per page.
    public func readdir(account: AccountID, directory: NodeID, cookie: UInt64, limit: Int) throws -> DirectoryPage {
        let limit = min(max(limit, 1), Limits.maxReaddirPage)
        return try read { db in
            _ = try NodeRows.requireDirectory(db, directory, account: account)
            guard let after = Int64(exactly: cookie) else { return DirectoryPage(entries: [], isLast: true) }
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: NodeRows.pageQuery),
                arguments: [Int64(directory), after, limit + 1])
            let entries = rows.prefix(limit).map { row in
                DirectoryEntry(name: row[1], attributes: NodeRows.attributes(row, at: 2), cookie: UInt64(row[0] as Int64))
            }
            return DirectoryPage(entries: entries, isLast: rows.count <= limit)
        }
    }

    func mkdir(in db: Database, account: AccountID, parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes {
        try NameRules.validateEntryName(name)
        return try create(db, account: account, parent: parent, name: name, kind: .directory,
                          mode: mode, uid: uid, gid: gid, target: nil, rdev: 0, now: now)
    }

    /// Creates a regular file, FIFO, socket or device node; directories and symlinks
    /// have calls of their own. Only a device node keeps `rdev` (others store 0, as
    /// Linux ignores the device number of mknod for them).
    func mknod(in db: Database, account: AccountID, parent: NodeID, name: String, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32, rdev: UInt64, now: Int64) throws -> NodeAttributes {
        try NameRules.validateEntryName(name)
        guard kind != .directory && kind != .symlink else {
            throw NetStoreError(.invalid, "mknod makes files, FIFOs, sockets and devices only; use mkdir or symlink for a \(kind)")
        }
        return try create(db, account: account, parent: parent, name: name, kind: kind,
                          mode: mode, uid: uid, gid: gid, target: nil, rdev: kind.isDevice ? rdev : 0, now: now)
    }

    func symlink(in db: Database, account: AccountID, parent: NodeID, name: String, target: String, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes {
        try NameRules.validateEntryName(name)
        try NameRules.validateSymlinkTarget(target)
        return try create(db, account: account, parent: parent, name: name, kind: .symlink,
                          mode: 0o777, uid: uid, gid: gid, target: target, rdev: 0, now: now)
    }

    private func create(
        _ db: Database, account: AccountID, parent: NodeID, name: String, kind: NodeKind,
        mode: UInt32, uid: UInt32, gid: UInt32, target: String?, rdev: UInt64, now: Int64
    ) throws -> NodeAttributes {
        let directory = try NodeRows.requireDirectory(db, parent, account: account)
        if try NodeRows.entry(db, parent: parent, name: name) != nil {
            throw NetStoreError(.exists, "'\(name)' already exists in directory \(parent)")
        }
        let isDirectory = kind == .directory
        if isDirectory && directory.nlink >= Limits.maxLinks {
            throw NetStoreError(.tooManyLinks, "directory \(parent) has the most subdirectories allowed (\(Limits.maxLinks - 2))")
        }
        let node = try NodeRows.insertNode(
            db, account: account, kind: kind, mode: mode, uid: uid, gid: gid,
            nlink: isDirectory ? 2 : 1, size: UInt64(target?.utf8.count ?? 0), target: target, rdev: rdev, now: now)
        try NodeRows.insertEntry(db, parent: parent, name: name, node: node.id)
        try NodeRows.touchDirectory(db, parent, nlinkDelta: isDirectory ? 1 : 0, now: now)
        return node
    }

    /// Gives `node` another name; directories cannot be linked.
    func link(in db: Database, account: AccountID, node: NodeID, newParent: NodeID, newName: String, now: Int64) throws -> NodeAttributes {
        try NameRules.validateEntryName(newName)
        do {
            let target = try NodeRows.require(db, node, account: account)
            if target.kind == .directory {
                throw NetStoreError(.notPermitted, "node \(node) is a directory: directories cannot have hard links")
            }
            _ = try NodeRows.requireDirectory(db, newParent, account: account)
            if try NodeRows.entry(db, parent: newParent, name: newName) != nil {
                throw NetStoreError(.exists, "'\(newName)' already exists in directory \(newParent)")
            }
            if target.nlink >= Limits.maxLinks {
                throw NetStoreError(.tooManyLinks, "node \(node) already has \(target.nlink) links, the most allowed")
            }
            try NodeRows.insertEntry(db, parent: newParent, name: newName, node: node)
            try NodeRows.touchChange(db, node, nlinkDelta: 1, now: now)
            try NodeRows.touchDirectory(db, newParent, now: now)
            return try NodeRows.require(db, node, account: account)
        }
    }

    /// Removes a name (not a directory's); returns the parent's attributes after it.
    func unlink(in db: Database, account: AccountID, parent: NodeID, name: String, now: Int64) throws -> NodeAttributes {
        try NameRules.validateEntryName(name)
        do {
            _ = try NodeRows.requireDirectory(db, parent, account: account)
            let (entry, node) = try NodeRows.requireEntry(db, parent: parent, name: name)
            if node.kind == .directory {
                throw NetStoreError(.isDirectory, "'\(name)' in directory \(parent) is a directory: use rmdir")
            }
            try NodeRows.deleteEntry(db, id: entry)
            try NodeRows.dropLink(db, node, now: now)
            try NodeRows.touchDirectory(db, parent, now: now)
            return try NodeRows.require(db, parent, account: account)
        }
    }

    /// Removes an empty directory; returns the parent's attributes after it.
    func rmdir(in db: Database, account: AccountID, parent: NodeID, name: String, now: Int64) throws -> NodeAttributes {
        try NameRules.validateEntryName(name)
        do {
            _ = try NodeRows.requireDirectory(db, parent, account: account)
            let (entry, node) = try NodeRows.requireEntry(db, parent: parent, name: name)
            if node.kind != .directory {
                throw NetStoreError(.notDirectory, "'\(name)' in directory \(parent) is not a directory: use unlink")
            }
            if try !NodeRows.isEmptyDirectory(db, node.id) {
                throw NetStoreError(.notEmpty, "directory '\(name)' is not empty: remove its entries first")
            }
            try NodeRows.deleteEntry(db, id: entry)
            try NodeRows.deleteNode(db, node.id)
            try NodeRows.touchDirectory(db, parent, nlinkDelta: -1, now: now)
            return try NodeRows.require(db, parent, account: account)
        }
    }

    public func readlink(account: AccountID, node: NodeID) throws -> String {
        try read { db in
            let found = try NodeRows.require(db, node, account: account)
            guard found.kind == .symlink else {
                throw NetStoreError(.invalid, "node \(node) is not a symbolic link")
            }
            return try String.fetchOne(db, sql: "SELECT target FROM nodes WHERE id = ?", arguments: [Int64(node)]) ?? ""
        }
    }

    /// Changes the attributes named in `changes`; ctime always moves to `now`.
    /// A size truncates or extends a file's content (a new version).
    func setattr(in db: Database, account: AccountID, node: NodeID, changes: SetAttributes, now: Int64) throws -> NodeAttributes {
        if let size = changes.size, size > Limits.maxFileSize {
            throw NetStoreError(.fileTooBig, "a file is at most \(Limits.maxFileSize) bytes")
        }
        return try applyAttributes(db, account: account, node: node, changes: changes, now: now)
    }

    private func applyAttributes(_ db: Database, account: AccountID, node: NodeID, changes: SetAttributes, now: Int64) throws -> NodeAttributes {
        let current = try NodeRows.require(db, node, account: account)
        var mtime = changes.mtime.map { Self.resolve($0, now: now) }
        if let size = changes.size {
            switch current.kind {
            case .file: break
            case .directory: throw NetStoreError(.isDirectory, "node \(node) is a directory: it has no size to set")
            case .symlink, .fifo, .socket, .characterDevice, .blockDevice:
                throw NetStoreError(.invalid, "node \(node) is not a regular file: it has no size to set")
            }
            try resize(db, current, to: size, now: now)
            mtime = mtime ?? now
        }
        try db.cachedStatement(sql: """
            UPDATE nodes SET mode = COALESCE(?, mode), uid = COALESCE(?, uid), gid = COALESCE(?, gid),
                atime_ns = COALESCE(?, atime_ns), mtime_ns = COALESCE(?, mtime_ns), ctime_ns = ?
            WHERE id = ?
            """).execute(arguments: [
                changes.mode.map { Int64($0 & 0o7777) }, changes.uid.map { Int64($0) }, changes.gid.map { Int64($0) },
                changes.atime.map { Self.resolve($0, now: now) }, mtime, now, Int64(node),
            ])
        return try NodeRows.require(db, node, account: account)
    }

    static func resolve(_ change: SetAttributes.TimeChange, now: Int64) -> Int64 {
        switch change {
        case .now: now
        case .nanoseconds(let value): value
        }
    }
}
