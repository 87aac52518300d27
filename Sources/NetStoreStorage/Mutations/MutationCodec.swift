import NetStoreCore

/// The binary form of an `Mutation`, the payload of a log entry (docs/replication.md,
/// "Mutation encoding"): a format version byte, a kind byte, then the fields in
/// order, integers big-endian, strings as a u16 length and UTF-8 bytes.
///
/// Decoding checks every length and limit and that nothing is left over; any
/// malformed payload throws `.protocolError`. The encoding is never empty (an
/// empty payload is the replication log's term-start marker).
public enum MutationCodec {
    public static let version: UInt8 = 1
    /// Longest password hash carried (scrypt's PHC-like strings are ~100 bytes).
    public static let maxHashLength = 512
    /// Largest encoded operation: a commit of the longest block list, with room to spare.
    public static let maxEncodedSize = Limits.maxBlocksPerCommit * BlockID.byteCount + 4096

    enum Kind: UInt8 {
        case mkdir = 1, mknod, symlink, link, unlink, rmdir, rename, setattr, commit
        /// A mknod with a device number: a mknod's fields then rdev `u64`. Added
        /// after format 1 was in use, as a kind of its own so that every entry
        /// written before still decodes; only a non-zero rdev is written this way,
        /// so every mknod without one keeps the old bytes.
        case mknodDevice
        /// A file with its content: a regular file's mknod fields, then a commit's
        /// size and block list, then the time.
        case createFile
        /// Files with their content: the account, a u16 count, per file a
        /// createFile's fields from the parent to the block list, then the time.
        case createFiles
        /// Names removed: the account, a u16 count, per name its parent, the
        /// name and a u8 (1: a directory), then the time.
        case removeEntries
        case addUser = 32, setPassword, removeUser, createSession, deleteSession, pruneSessions
    }

    /// The encoding of a mutation whose fields are within their limits (a precondition).
    public static func encode(_ mutation: Mutation) -> [UInt8] {
        do {
            return try tryEncode(mutation)
        } catch {
            preconditionFailure("cannot encode \(mutation.name): \(error)")
        }
    }

    /// The encoding, or `.nameTooLong` / `.invalid` for a field over its limit.
    public static func tryEncode(_ mutation: Mutation) throws(NetStoreError) -> [UInt8] {
        var w = MutationWriter()
        w.u8(version)
        switch mutation {
        case let .mkdir(account, parent, name, mode, uid, gid, now):
            w.u8(Kind.mkdir.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength)
            w.u32(mode); w.u32(uid); w.u32(gid); w.i64(now)
        case let .mknod(account, parent, name, kind, mode, uid, gid, rdev, now):
            w.u8(rdev == 0 ? Kind.mknod.rawValue : Kind.mknodDevice.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength)
            w.u8(kind.rawValue); w.u32(mode); w.u32(uid); w.u32(gid)
            if rdev != 0 { w.u64(rdev) }
            w.i64(now)
        case let .symlink(account, parent, name, target, uid, gid, now):
            w.u8(Kind.symlink.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength)
            w.string(target, limit: Limits.maxSymlinkTarget); w.u32(uid); w.u32(gid); w.i64(now)
        case let .link(account, node, newParent, newName, now):
            w.u8(Kind.link.rawValue)
            w.u64(account); w.u64(node); w.u64(newParent); w.string(newName, limit: Limits.maxNameLength); w.i64(now)
        case let .unlink(account, parent, name, now):
            w.u8(Kind.unlink.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength); w.i64(now)
        case let .rmdir(account, parent, name, now):
            w.u8(Kind.rmdir.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength); w.i64(now)
        case let .rename(account, parent, name, newParent, newName, flags, now):
            w.u8(Kind.rename.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength)
            w.u64(newParent); w.string(newName, limit: Limits.maxNameLength); w.u32(flags.rawValue); w.i64(now)
        case let .setattr(account, node, changes, now):
            w.u8(Kind.setattr.rawValue)
            w.u64(account); w.u64(node)
            writeChanges(changes, into: &w)
            w.i64(now)
        case let .commit(account, node, baseVersion, size, blocks, now):
            w.u8(Kind.commit.rawValue)
            w.u64(account); w.u64(node); w.u64(baseVersion); w.u64(size)
            if blocks.count > Limits.maxBlocksPerCommit {
                throw NetStoreError(.invalid, "a commit names at most \(Limits.maxBlocksPerCommit) blocks, not \(blocks.count)")
            }
            w.u32(UInt32(blocks.count))
            for block in blocks { w.raw(block.bytes) }
            w.i64(now)
        case let .createFile(account, parent, name, mode, uid, gid, size, blocks, now):
            w.u8(Kind.createFile.rawValue)
            w.u64(account); w.u64(parent); w.string(name, limit: Limits.maxNameLength)
            w.u32(mode); w.u32(uid); w.u32(gid); w.u64(size)
            if blocks.count > Limits.maxBlocksPerCommit {
                throw NetStoreError(.invalid, "a commit names at most \(Limits.maxBlocksPerCommit) blocks, not \(blocks.count)")
            }
            w.u32(UInt32(blocks.count))
            for block in blocks { w.raw(block.bytes) }
            w.i64(now)
        case let .removeEntries(account, entries, now):
            w.u8(Kind.removeEntries.rawValue)
            guard entries.count <= Limits.maxRemovalsPerBatch else {
                throw NetStoreError(.invalid, "a batch removes at most \(Limits.maxRemovalsPerBatch) names, not \(entries.count)")
            }
            w.u64(account); w.u16(UInt16(entries.count))
            for entry in entries {
                w.u64(entry.parent); w.string(entry.name, limit: Limits.maxNameLength); w.u8(entry.isDirectory ? 1 : 0)
            }
            w.i64(now)
        case let .createFiles(account, files, now):
            w.u8(Kind.createFiles.rawValue)
            guard files.count <= Limits.maxFilesPerBatch else {
                throw NetStoreError(.invalid, "a batch makes at most \(Limits.maxFilesPerBatch) files, not \(files.count)")
            }
            guard files.reduce(0, { $0 + $1.blocks.count }) <= Limits.maxBlocksPerCommit else {
                throw NetStoreError(.invalid, "a batch names at most \(Limits.maxBlocksPerCommit) blocks")
            }
            w.u64(account); w.u16(UInt16(files.count))
            for file in files {
                w.u64(file.parent); w.string(file.name, limit: Limits.maxNameLength)
                w.u32(file.mode); w.u32(file.uid); w.u32(file.gid); w.u64(file.size)
                w.u32(UInt32(file.blocks.count))
                for block in file.blocks { w.raw(block.bytes) }
            }
            w.i64(now)
        case let .addUser(name, role, passwordHash, now):
            w.u8(Kind.addUser.rawValue)
            w.string(name, limit: Limits.maxUserNameLength); w.u8(role.rawValue)
            w.string(passwordHash, limit: maxHashLength); w.i64(now)
        case let .setPassword(name, passwordHash, now):
            w.u8(Kind.setPassword.rawValue)
            w.string(name, limit: Limits.maxUserNameLength); w.string(passwordHash, limit: maxHashLength); w.i64(now)
        case let .removeUser(name):
            w.u8(Kind.removeUser.rawValue)
            w.string(name, limit: Limits.maxUserNameLength)
        case let .createSession(user, checkedHash, rehash, tokenHash, now, expiresNs, maxSessions):
            w.u8(Kind.createSession.rawValue)
            w.u64(user); w.string(checkedHash, limit: maxHashLength); w.optionalString(rehash, limit: maxHashLength)
            precondition(tokenHash.count == 32, "a token hash is a SHA-256")
            w.raw(tokenHash); w.i64(now); w.i64(expiresNs); w.u32(maxSessions)
        case let .deleteSession(tokenHash):
            w.u8(Kind.deleteSession.rawValue)
            precondition(tokenHash.count == 32, "a token hash is a SHA-256")
            w.raw(tokenHash)
        case let .pruneSessions(now):
            w.u8(Kind.pruneSessions.rawValue)
            w.i64(now)
        }
        if let error = w.overLimit { throw error }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(NetStoreError) -> Mutation {
        guard bytes.count <= maxEncodedSize else {
            throw MutationReader.malformed("it has \(bytes.count) bytes, over the limit of \(maxEncodedSize)")
        }
        var r = MutationReader(bytes)
        let format = try r.u8()
        guard format == version else {
            throw MutationReader.malformed("format version \(format) is not \(version): upgrade this server")
        }
        let rawKind = try r.u8()
        guard let kind = Kind(rawValue: rawKind) else { throw MutationReader.malformed("unknown kind \(rawKind)") }
        let name = Limits.maxNameLength
        let mutation: Mutation
        switch kind {
        case .mkdir:
            mutation = .mkdir(account: try r.u64(), parent: try r.u64(), name: try r.string(limit: name, "name"),
                               mode: try r.u32(), uid: try r.u32(), gid: try r.u32(), now: try r.i64())
        case .mknod, .mknodDevice:
            let (account, parent, entry) = (try r.u64(), try r.u64(), try r.string(limit: name, "name"))
            let rawNodeKind = try r.u8()
            guard let nodeKind = NodeKind(rawValue: rawNodeKind) else {
                throw MutationReader.malformed("unknown node kind \(rawNodeKind)")
            }
            let (mode, uid, gid) = (try r.u32(), try r.u32(), try r.u32())
            let rdev = kind == .mknodDevice ? try r.u64() : 0
            // One encoding per mutation: a zero rdev is written as a plain mknod.
            if kind == .mknodDevice && rdev == 0 { throw MutationReader.malformed("a device mknod has rdev 0") }
            mutation = .mknod(account: account, parent: parent, name: entry, kind: nodeKind,
                               mode: mode, uid: uid, gid: gid, rdev: rdev, now: try r.i64())
        case .symlink:
            mutation = .symlink(account: try r.u64(), parent: try r.u64(), name: try r.string(limit: name, "name"),
                                 target: try r.string(limit: Limits.maxSymlinkTarget, "target"),
                                 uid: try r.u32(), gid: try r.u32(), now: try r.i64())
        case .link:
            mutation = .link(account: try r.u64(), node: try r.u64(), newParent: try r.u64(),
                              newName: try r.string(limit: name, "name"), now: try r.i64())
        case .unlink:
            mutation = .unlink(account: try r.u64(), parent: try r.u64(), name: try r.string(limit: name, "name"), now: try r.i64())
        case .rmdir:
            mutation = .rmdir(account: try r.u64(), parent: try r.u64(), name: try r.string(limit: name, "name"), now: try r.i64())
        case .rename:
            mutation = .rename(account: try r.u64(), parent: try r.u64(), name: try r.string(limit: name, "name"),
                                newParent: try r.u64(), newName: try r.string(limit: name, "new name"),
                                flags: RenameFlags(rawValue: try r.u32()), now: try r.i64())
        case .setattr:
            mutation = .setattr(account: try r.u64(), node: try r.u64(), changes: try readChanges(&r), now: try r.i64())
        case .commit:
            let (account, node, baseVersion, size) = (try r.u64(), try r.u64(), try r.u64(), try r.u64())
            let blocks = try readBlockList(&r)
            mutation = .commit(account: account, node: node, baseVersion: baseVersion, size: size, blocks: blocks, now: try r.i64())
        case .createFile:
            let (account, parent, entry) = (try r.u64(), try r.u64(), try r.string(limit: name, "name"))
            let (mode, uid, gid, size) = (try r.u32(), try r.u32(), try r.u32(), try r.u64())
            let blocks = try readBlockList(&r)
            mutation = .createFile(account: account, parent: parent, name: entry, mode: mode, uid: uid, gid: gid,
                                   size: size, blocks: blocks, now: try r.i64())
        case .createFiles:
            let account = try r.u64()
            let count = Int(try r.u16())
            guard count <= Limits.maxFilesPerBatch else {
                throw MutationReader.malformed("a batch of \(count) files, over the limit of \(Limits.maxFilesPerBatch)")
            }
            var files: [NewFile] = []
            var blockCount = 0
            for _ in 0..<count {
                let (parent, entry) = (try r.u64(), try r.string(limit: name, "name"))
                let (mode, uid, gid, size) = (try r.u32(), try r.u32(), try r.u32(), try r.u64())
                let blocks = try readBlockList(&r)
                blockCount += blocks.count
                guard blockCount <= Limits.maxBlocksPerCommit else {
                    throw MutationReader.malformed("a batch names over \(Limits.maxBlocksPerCommit) blocks")
                }
                files.append(NewFile(parent: parent, name: entry, mode: mode, uid: uid, gid: gid, size: size, blocks: blocks))
            }
            mutation = .createFiles(account: account, files: files, now: try r.i64())
        case .removeEntries:
            let account = try r.u64()
            let count = Int(try r.u16())
            guard count <= Limits.maxRemovalsPerBatch else {
                throw MutationReader.malformed("a batch of \(count) removals, over the limit of \(Limits.maxRemovalsPerBatch)")
            }
            var entries: [EntryRemoval] = []
            for _ in 0..<count {
                let (parent, entry, kind) = (try r.u64(), try r.string(limit: name, "name"), try r.u8())
                guard kind <= 1 else { throw MutationReader.malformed("a removal's kind is 0 or 1, not \(kind)") }
                entries.append(EntryRemoval(parent: parent, name: entry, isDirectory: kind == 1))
            }
            mutation = .removeEntries(account: account, entries: entries, now: try r.i64())
        case .addUser:
            let user = try r.string(limit: Limits.maxUserNameLength, "user name")
            let rawRole = try r.u8()
            guard let role = Role(rawValue: rawRole) else { throw MutationReader.malformed("unknown role \(rawRole)") }
            mutation = .addUser(name: user, role: role, passwordHash: try r.string(limit: maxHashLength, "password hash"), now: try r.i64())
        case .setPassword:
            mutation = .setPassword(name: try r.string(limit: Limits.maxUserNameLength, "user name"),
                                     passwordHash: try r.string(limit: maxHashLength, "password hash"), now: try r.i64())
        case .removeUser:
            mutation = .removeUser(name: try r.string(limit: Limits.maxUserNameLength, "user name"))
        case .createSession:
            mutation = .createSession(
                user: try r.u64(), checkedHash: try r.string(limit: maxHashLength, "password hash"),
                rehash: try r.optionalString(limit: maxHashLength, "new password hash"),
                tokenHash: Array(try r.take(32)), now: try r.i64(), expiresNs: try r.i64(), maxSessions: try r.u32())
        case .deleteSession:
            mutation = .deleteSession(tokenHash: Array(try r.take(32)))
        case .pruneSessions:
            mutation = .pruneSessions(now: try r.i64())
        }
        guard r.isAtEnd else { throw MutationReader.malformed("bytes are left after a \(mutation.name)") }
        return mutation
    }

    // SETATTR's changes: a presence bitmask (mode, uid, gid, size, atime, mtime),
    // then the fields present; a time is a tag (0 now, 1 nanoseconds) and an i64 for 1.
    private static func writeChanges(_ c: SetAttributes, into w: inout MutationWriter) {
        let present = [c.mode != nil, c.uid != nil, c.gid != nil, c.size != nil, c.atime != nil, c.mtime != nil]
        w.u8(present.enumerated().reduce(0) { $0 | ($1.element ? 1 << $1.offset : 0) })
        if let mode = c.mode { w.u32(mode) }
        if let uid = c.uid { w.u32(uid) }
        if let gid = c.gid { w.u32(gid) }
        if let size = c.size { w.u64(size) }
        for time in [c.atime, c.mtime] {
            switch time {
            case nil: break
            case .now: w.u8(0)
            case .nanoseconds(let ns): w.u8(1); w.i64(ns)
            }
        }
    }

    private static func readChanges(_ r: inout MutationReader) throws(NetStoreError) -> SetAttributes {
        let mask = try r.u8()
        guard mask & 0xC0 == 0 else { throw MutationReader.malformed("unknown attribute bits in 0x\(String(mask, radix: 16))") }
        var c = SetAttributes()
        if mask & 1 != 0 { c.mode = try r.u32() }
        if mask & 2 != 0 { c.uid = try r.u32() }
        if mask & 4 != 0 { c.gid = try r.u32() }
        if mask & 8 != 0 { c.size = try r.u64() }
        if mask & 16 != 0 { c.atime = try readTime(&r) }
        if mask & 32 != 0 { c.mtime = try readTime(&r) }
        return c
    }

    private static func readBlockList(_ r: inout MutationReader) throws(NetStoreError) -> [BlockID] {
        let count = Int(try r.u32())
        guard count <= Limits.maxBlocksPerCommit else {
            throw MutationReader.malformed("a commit names \(count) blocks, over the limit of \(Limits.maxBlocksPerCommit)")
        }
        var blocks: [BlockID] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count { blocks.append(BlockID(bytes: Array(try r.take(BlockID.byteCount)))!) }
        return blocks
    }

    private static func readTime(_ r: inout MutationReader) throws(NetStoreError) -> SetAttributes.TimeChange {
        switch try r.u8() {
        case 0: return .now
        case 1: return .nanoseconds(try r.i64())
        case let tag: throw MutationReader.malformed("unknown time tag \(tag)")
        }
    }
}
