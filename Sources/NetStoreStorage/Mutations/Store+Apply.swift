import Foundation
import GRDB
import NetStoreCore

extension Store {
    /// Applies one operation in one transaction and returns its result; its
    /// errors (EEXIST, ...) are thrown. Nothing is recorded about a log.
    @discardableResult
    public func apply(_ operation: Mutation) throws -> MutationResult {
        try transaction(operation, position: nil).get()
    }

    /// Applies the operation of log entry `index` (of `term`) and records that
    /// position as applied, in one transaction. The operation's own error is its
    /// deterministic result (the position is recorded all the same); only a failure
    /// of the store itself (disk full, I/O) throws, and then nothing is recorded.
    public func apply(_ operation: Mutation, index: UInt64, term: UInt64) throws -> Result<MutationResult, NetStoreError> {
        try transaction(operation, position: (index, term))
    }

    /// Applies a run of consecutive log entries in ONE transaction and records the
    /// last as applied. The transaction is not fsync'd: the log holds the entries
    /// durably, and a restart applies again whatever a crash lost of this. Each operation runs in its own savepoint, so each result is exactly
    /// what `apply(_:index:term:)` would have returned one by one; an entry with no
    /// operation (a term's first entry, a malformed payload) changes nothing. Only a
    /// store failure throws, and then none of the batch is recorded.
    public func apply(batch: [BatchEntry]) throws -> [Result<MutationResult, NetStoreError>] {
        guard let last = batch.last else { return [] }
        defer { if batch.contains(where: { $0.mutation?.changesAccounts == true }) { accountsChanged() } }
        return try blockFiles.withLock { _ in
            try writeWithoutSync { db in
                var results: [Result<MutationResult, NetStoreError>] = []
                results.reserveCapacity(batch.count)
                for entry in batch {
                    guard let operation = entry.mutation else {
                        results.append(.success(.none))
                        continue
                    }
                    results.append(try Self.savepoint(db) { try perform(db, operation) })
                }
                try Self.setApplied(db, index: last.index, term: last.term)
                return results
            }
        }
    }

    /// Records a log entry that changes no state (a term's first entry) as applied.
    public func recordApplied(index: UInt64, term: UInt64) throws {
        try write { db in try Self.setApplied(db, index: index, term: term) }
    }

    /// Applies in one transaction: a savepoint holds the operation's changes, so its
    /// failure undoes them but not the applied position.
    private func transaction(_ operation: Mutation, position: (index: UInt64, term: UInt64)?) throws -> Result<MutationResult, NetStoreError> {
        defer { if operation.changesAccounts { accountsChanged() } }
        // A resize may store a cut block: the collector must not remove it meanwhile.
        return try blockFiles.withLock { _ in
            try write { db in
                let result = try Self.savepoint(db) { try perform(db, operation) }
                if let position { try Self.setApplied(db, index: position.index, term: position.term) }
                return result
            }
        }
    }

    /// Called after a transaction that may have changed users or sessions ended
    /// (committed or not: a needless raise only costs a token check).
    func accountsChanged() {
        accountsGeneration.add(1, ordering: .releasing)
    }

    /// Runs `body` in a savepoint: its own error rolls back its changes and is
    /// returned; any other error rolls them back and is thrown. The savepoint's
    /// statements are prepared once (GRDB's `inSavepoint` parses them anew
    /// each time, twice for every file of a batch).
    private static func savepoint(_ db: Database, _ body: () throws -> MutationResult) throws -> Result<MutationResult, NetStoreError> {
        try db.cachedStatement(sql: "SAVEPOINT change").execute()
        do {
            let result = try body()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT change").execute()
            return .success(result)
        } catch let error as NetStoreError {
            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT change").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT change").execute()
            return .failure(error)
        } catch {
            // A failure of the store itself: SQLite may have ended the transaction already.
            try? db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT change").execute()
            try? db.cachedStatement(sql: "RELEASE SAVEPOINT change").execute()
            throw error
        }
    }

    /// Each of `operations` (each returning attributes) in a savepoint of its
    /// own, in order: one refused leaves the others done; each one's outcome.
    private func performEach(_ db: Database, _ operations: [Mutation]) throws -> MutationResult {
        .outcomes(try operations.map { operation in
            try Self.savepoint(db) { try perform(db, operation) }.map { $0.attributes! }
        })
    }

    private func perform(_ db: Database, _ operation: Mutation) throws -> MutationResult {
        switch operation {
        case let .mkdir(account, parent, name, mode, uid, gid, now):
            return .attributes(try mkdir(in: db, account: account, parent: parent, name: name, mode: mode, uid: uid, gid: gid, now: now))
        case let .mknod(account, parent, name, kind, mode, uid, gid, rdev, now):
            return .attributes(try mknod(in: db, account: account, parent: parent, name: name, kind: kind, mode: mode, uid: uid, gid: gid, rdev: rdev, now: now))
        case let .symlink(account, parent, name, target, uid, gid, now):
            return .attributes(try symlink(in: db, account: account, parent: parent, name: name, target: target, uid: uid, gid: gid, now: now))
        case let .link(account, node, newParent, newName, now):
            return .attributes(try link(in: db, account: account, node: node, newParent: newParent, newName: newName, now: now))
        case let .unlink(account, parent, name, now):
            return .attributes(try unlink(in: db, account: account, parent: parent, name: name, now: now))
        case let .rmdir(account, parent, name, now):
            return .attributes(try rmdir(in: db, account: account, parent: parent, name: name, now: now))
        case let .rename(account, parent, name, newParent, newName, flags, now):
            try rename(in: db, account: account, parent: parent, name: name, newParent: newParent, newName: newName, flags: flags, now: now)
        case let .setattr(account, node, changes, now):
            return .attributes(try setattr(in: db, account: account, node: node, changes: changes, now: now))
        case let .commit(account, node, baseVersion, size, blocks, now):
            return .attributes(try commit(in: db, account: account, node: node, baseVersion: baseVersion, size: size, blocks: blocks, now: now))
        case let .createFile(account, parent, name, mode, uid, gid, size, blocks, now):
            // One savepoint: a refused commit (a missing block) leaves no empty file behind.
            let made = try mknod(in: db, account: account, parent: parent, name: name, kind: .file, mode: mode, uid: uid, gid: gid, rdev: 0, now: now)
            return .attributes(try commit(in: db, account: account, node: made.id, baseVersion: made.version, size: size, blocks: blocks, now: now))
        case let .createFiles(account, files, now):
            return try performEach(db, files.map { file in
                .createFile(account: account, parent: file.parent, name: file.name, mode: file.mode, uid: file.uid,
                            gid: file.gid, size: file.size, blocks: file.blocks, now: now)
            })
        case let .removeEntries(account, entries, now):
            return try performEach(db, entries.map { entry in
                entry.isDirectory
                    ? .rmdir(account: account, parent: entry.parent, name: entry.name, now: now)
                    : .unlink(account: account, parent: entry.parent, name: entry.name, now: now)
            })
        case let .addUser(name, role, passwordHash, now):
            return .user(try addUser(in: db, name: name, role: role, passwordHash: passwordHash, now: now))
        case let .setPassword(name, passwordHash, now):
            try setPassword(in: db, name: name, passwordHash: passwordHash, now: now)
        case let .removeUser(name):
            try removeUser(in: db, name: name)
        case let .createSession(user, checkedHash, rehash, tokenHash, now, expiresNs, maxSessions):
            return .user(try createSession(in: db, user: user, checkedHash: checkedHash, rehash: rehash, tokenHash: tokenHash,
                                           now: now, expiresNs: expiresNs, maxSessions: maxSessions))
        case let .deleteSession(tokenHash):
            try deleteSession(in: db, tokenHash: tokenHash)
        case let .pruneSessions(now):
            return .count(try pruneSessions(in: db, now: now))
        }
        return .none
    }

    static func setApplied(_ db: Database, index: UInt64, term: UInt64) throws {
        try db.cachedStatement(sql: "UPDATE replication SET applied_index = ?, applied_term = ?")
            .execute(arguments: [Int64(index), Int64(term)])
    }

    // MARK: the public calls, each one operation applied locally

    @discardableResult
    public func mkdir(account: AccountID, parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes {
        try apply(.mkdir(account: account, parent: parent, name: name, mode: mode, uid: uid, gid: gid, now: now)).attributes!
    }

    /// Creates a regular file, FIFO, socket or device node (with device number
    /// `rdev`); directories and symlinks have calls of their own.
    @discardableResult
    public func mknod(account: AccountID, parent: NodeID, name: String, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32, rdev: UInt64 = 0, now: Int64) throws -> NodeAttributes {
        try apply(.mknod(account: account, parent: parent, name: name, kind: kind, mode: mode, uid: uid, gid: gid, rdev: rdev, now: now)).attributes!
    }

    @discardableResult
    public func symlink(account: AccountID, parent: NodeID, name: String, target: String, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes {
        try apply(.symlink(account: account, parent: parent, name: name, target: target, uid: uid, gid: gid, now: now)).attributes!
    }

    /// Gives `node` another name; directories cannot be linked.
    @discardableResult
    public func link(account: AccountID, node: NodeID, newParent: NodeID, newName: String, now: Int64) throws -> NodeAttributes {
        try apply(.link(account: account, node: node, newParent: newParent, newName: newName, now: now)).attributes!
    }

    /// Returns the parent directory's attributes after the name is gone.
    @discardableResult
    public func unlink(account: AccountID, parent: NodeID, name: String, now: Int64) throws -> NodeAttributes {
        try apply(.unlink(account: account, parent: parent, name: name, now: now)).attributes!
    }

    /// Returns the parent directory's attributes after the directory is gone.
    @discardableResult
    public func rmdir(account: AccountID, parent: NodeID, name: String, now: Int64) throws -> NodeAttributes {
        try apply(.rmdir(account: account, parent: parent, name: name, now: now)).attributes!
    }

    /// Moves an entry, with renameat2(2)'s rules: a replaced target loses a link,
    /// `.noReplace` refuses to replace, `.exchange` swaps two existing entries.
    public func rename(account: AccountID, parent: NodeID, name: String, newParent: NodeID, newName: String, flags: RenameFlags, now: Int64) throws {
        try apply(.rename(account: account, parent: parent, name: name, newParent: newParent, newName: newName, flags: flags, now: now))
    }

    /// Changes the attributes named in `changes`; ctime always moves to `now`.
    /// A size truncates or extends a file's content (a new version).
    @discardableResult
    public func setattr(account: AccountID, node: NodeID, changes: SetAttributes, now: Int64) throws -> NodeAttributes {
        try apply(.setattr(account: account, node: node, changes: changes, now: now)).attributes!
    }

    /// Swaps in a new block list atomically if the file is still at `baseVersion`.
    @discardableResult
    public func commit(account: AccountID, node: NodeID, baseVersion: UInt64, size: UInt64, blocks: [BlockID], now: Int64) throws -> NodeAttributes {
        try apply(.commit(account: account, node: node, baseVersion: baseVersion, size: size, blocks: blocks, now: now)).attributes!
    }
}

/// One log entry handed to `Store.apply(batch:)`: nil `mutation` records the position only.
public struct BatchEntry: Sendable {
    public var index: UInt64
    public var term: UInt64
    public var mutation: Mutation?

    public init(index: UInt64, term: UInt64, mutation: Mutation?) {
        self.index = index
        self.term = term
        self.mutation = mutation
    }
}
