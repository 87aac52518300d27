import Foundation
import GRDB
import NetStoreCore

extension Store {
    // MARK: content

    public func content(account: AccountID, node: NodeID) throws -> FileContent {
        try read { db in
            let file = try Self.requireFile(db, node, account: account)
            return FileContent(version: file.version, size: file.size, blocks: try NodeRows.blockList(db, node))
        }
    }

    /// Swaps in a new block list atomically if the file is still at `baseVersion`.
    func commit(in db: Database, account: AccountID, node: NodeID, baseVersion: UInt64, size: UInt64, blocks: [BlockID], now: Int64) throws -> NodeAttributes {
        if size > Limits.maxFileSize {
            throw NetStoreError(.fileTooBig, "a file is at most \(Limits.maxFileSize) bytes; the commit names \(size)")
        }
        let blockSize = UInt64(Limits.blockSize)
        let allowed = min((size + blockSize - 1) / blockSize, UInt64(Limits.maxBlocksPerCommit))
        if UInt64(blocks.count) > allowed {
            throw NetStoreError(.invalid, "a file of \(size) bytes has at most \(allowed) blocks; the commit names \(blocks.count)")
        }
        do {
            let file = try Self.requireFile(db, node, account: account)
            if file.version != baseVersion {
                throw NetStoreError(.versionConflict, "file \(node) is at version \(file.version), not \(baseVersion): read it again and redo the change")
            }
            let wanted = Set(blocks.filter { !$0.isHole })
            let exists = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM blocks WHERE hash = ?)")
            var missing: [BlockID] = []
            for block in wanted where try Bool.fetchOne(exists, arguments: [Data(block.bytes)]) != true {
                missing.append(block)
            }
            if let first = missing.min() {
                throw NetStoreError(.missingBlocks, "\(missing.count) of the \(wanted.count) blocks of file \(node) are not stored on this server (\(first.hex) is one): upload them first, then commit again")
            }
            try Self.replaceBlocks(db, node, old: try NodeRows.blockList(db, node), new: blocks, size: size)
            try db.cachedStatement(sql: "UPDATE nodes SET mtime_ns = ?, ctime_ns = ? WHERE id = ?")
                .execute(arguments: [now, now, Int64(node)])
            return try NodeRows.require(db, node, account: account)
        }
    }

    /// For each id, whether this server holds the block (a hole is always held).
    ///
    /// A block file without its row (a server killed between storing the file and
    /// committing the row) is checked against its hash and recorded as of `now`,
    /// instead of being sent again: after a crash a resumed transfer skips it, and
    /// once recorded, the collector can remove it if nothing comes to refer to it.
    public func hasBlocks(_ ids: [BlockID], now: Int64) throws -> [Bool] {
        if ids.count > Limits.maxHashesPerQuery {
            throw NetStoreError(.invalid, "ask about at most \(Limits.maxHashesPerQuery) blocks at once, not \(ids.count)")
        }
        var present = try read { db in
            let exists = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM blocks WHERE hash = ?)")
            return try ids.map { id in
                try id.isHole || Bool.fetchOne(exists, arguments: [Data(id.bytes)]) == true
            }
        }
        for (index, id) in ids.enumerated() where !present[index] && blocks.contains(id) {
            guard let bytes = try? blocks.readVerified(id) else { continue }  // damaged: sent again
            try blockFiles.withLock { _ in
                try write { db in try Self.record(db, id, size: bytes.count, now: now) }
                // As in putBlock: the collector may have removed the file meanwhile.
                if !blocks.contains(id) { try bytes.withUnsafeBytes { try blocks.store(id, verifiedBytes: $0) } }
            }
            present[index] = true
        }
        return present
    }

    /// Verifies and stores a block, and records it (unreferenced until a commit names it).
    ///
    /// Storing a block again is cheap and moves an unreferenced block's `stored_ns`
    /// to `now`, so the collector's grace period covers the commit it is sent for.
    ///
    /// The transaction that records a block is not fsync'd: nothing refers to
    /// the block until a log entry does, and that entry's write, later in the
    /// same WAL, is fsync'd, which makes every commit before it durable too. A
    /// crash before then loses a small block and the entry alike; a large
    /// block's file is durable already (fsync'd), and `hasBlocks` records it
    /// again when it is asked for.
    public func putBlock(_ id: BlockID, bytes: UnsafeRawBufferPointer, now: Int64) throws {
        try BlockStore.validate(id, bytes: bytes)
        if bytes.count <= Self.smallBlockLimit {
            try writeWithoutSync { db in try Self.storeSmall(db, id, bytes: bytes, now: now) }
            return
        }
        // The slow part (write and fsync) runs outside the lock, in parallel with other uploads.
        try blocks.store(id, verifiedBytes: bytes)
        try blockFiles.withLock { _ in
            try writeWithoutSync { db in try Self.record(db, id, size: bytes.count, now: now) }
            // The collector may have removed the file between the write above and the
            // record; now that the row is committed, no collection can touch it.
            if !blocks.contains(id) { try blocks.store(id, verifiedBytes: bytes) }
        }
    }

    /// A block's verified bytes; a hole is empty (it reads as zeros).
    public func getBlock(_ id: BlockID) throws -> [UInt8] {
        if id.isHole { return [] }
        return try storedBlock(id)
    }

    /// Deletes unreferenced blocks stored before `storedBefore`; returns how many.
    public func collectGarbage(storedBefore: Int64) throws -> Int {
        try blockFiles.withLock { _ in
            let victims = try write { db in
                let hashes = try Data.fetchAll(
                    db, sql: "SELECT hash FROM blocks WHERE refs = 0 AND stored_ns < ? ORDER BY hash",
                    arguments: [storedBefore])
                try db.execute(sql: """
                    DELETE FROM small_blocks WHERE hash IN (SELECT hash FROM blocks WHERE refs = 0 AND stored_ns < ?)
                    """, arguments: [storedBefore])
                try db.execute(sql: "DELETE FROM blocks WHERE refs = 0 AND stored_ns < ?", arguments: [storedBefore])
                return hashes.compactMap { BlockID(bytes: [UInt8]($0)) }
            }
            // Rows go first: a file without a row is only wasted space, a row without a file is a lost block.
            for id in victims {
                do {
                    try blocks.remove(id)
                } catch {
                    logger.warning("cannot remove collected block", metadata: ["block": "\(id.hex)", "error": "\(error)"])
                }
            }
            if !victims.isEmpty { logger.info("collected unreferenced blocks", metadata: ["count": "\(victims.count)"]) }
            return victims.count
        }
    }

    // MARK: helpers

    static func requireFile(_ db: Database, _ id: NodeID, account: AccountID) throws -> NodeAttributes {
        let node = try NodeRows.require(db, id, account: account)
        switch node.kind {
        case .file: return node
        case .directory: throw NetStoreError(.isDirectory, "node \(id) is a directory, not a file")
        case .symlink, .fifo, .socket, .characterDevice, .blockDevice:
            throw NetStoreError(.invalid, "node \(id) is not a regular file")
        }
    }

    /// Records a stored block with no references, or refreshes an unreferenced one's time.
    static func record(_ db: Database, _ id: BlockID, size: Int, now: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO blocks (hash, size, refs, stored_ns) VALUES (?, ?, 0, ?)
            ON CONFLICT (hash) DO UPDATE SET stored_ns = excluded.stored_ns
            WHERE blocks.refs = 0 AND blocks.stored_ns < excluded.stored_ns
            """).execute(arguments: [Data(id.bytes), size, now])
    }

    /// Makes `new` the file's block list at `size`, one version later, moving the
    /// block references from the old list to the new one.
    static func replaceBlocks(_ db: Database, _ node: NodeID, old: [BlockID], new: [BlockID], size: UInt64) throws {
        var delta: [BlockID: Int] = [:]
        for block in new where !block.isHole { delta[block, default: 0] += 1 }
        for block in old where !block.isHole { delta[block, default: 0] -= 1 }
        try NodeRows.adjustRefs(db, delta)
        try db.cachedStatement(sql: "UPDATE nodes SET size = ?, blocks = ?, version = version + 1 WHERE id = ?")
            .execute(arguments: [Int64(size), NodeRows.encode(new), Int64(node)])
    }

    /// Truncates or extends a file (the caller sets its times). Bytes past the
    /// new end are cut from the block that holds it, so a later extension reads
    /// zeros there and never the old bytes.
    func resize(_ db: Database, _ file: NodeAttributes, to size: UInt64, now: Int64) throws {
        if size == file.size { return }
        let blockSize = UInt64(Limits.blockSize)
        var list = try NodeRows.blockList(db, file.id)
        let old = list
        let end = min(size, file.size)
        let keep = Int((end + blockSize - 1) / blockSize)
        if list.count > keep { list.removeSubrange(keep...) }
        if end % blockSize != 0 {
            try cut(db, &list, index: Int(end / blockSize), length: Int(end % blockSize), now: now)
        }
        try Self.replaceBlocks(db, file.id, old: old, new: list, size: size)
    }

    /// Replaces `list[index]` by its first `length` bytes if it holds more.
    private func cut(_ db: Database, _ list: inout [BlockID], index: Int, length: Int, now: Int64) throws {
        guard index < list.count, !list[index].isHole else { return }
        let id = list[index]
        let stored = try Int.fetchOne(db, sql: "SELECT size FROM blocks WHERE hash = ?", arguments: [Data(id.bytes)])
        if let stored, stored <= length { return }
        let bytes = try Self.smallBlock(db, id) ?? blocks.readVerified(id)
        if bytes.count <= length { return }
        let kept = Array(bytes[..<length])
        if kept.allSatisfy({ $0 == 0 }) {
            list[index] = .hole
            return
        }
        let newID = BlockStore.id(of: kept)
        if kept.count <= Self.smallBlockLimit {
            try kept.withUnsafeBytes { try Self.storeSmall(db, newID, bytes: $0, now: now) }
        } else {
            try kept.withUnsafeBytes { try blocks.store(newID, verifiedBytes: $0) }
            try Self.record(db, newID, size: kept.count, now: now)
        }
        list[index] = newID
    }
}
