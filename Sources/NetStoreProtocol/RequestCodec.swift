import NIOCore
import NetStoreCore

/// Request payloads (docs/protocol.md, "Request payloads").
enum RequestCodec {
    static func writePayload(of request: Request, into buffer: inout ByteBuffer) throws(NetStoreError) {
        switch request {
        case .ping, .logout, .status, .statfs, .userList, .digest, .promote, .watch:
            break
        case .login(let user, let password):
            try buffer.writeString16(user, .userName)
            try buffer.writeString16(password, .password)
        case .auth(let token):
            try buffer.writeString16(token, .token)
        case .lookup(let parent, let name), .unlink(let parent, let name), .rmdir(let parent, let name):
            buffer.writeInteger(parent)
            try buffer.writeString16(name, .name)
        case .getattr(let node), .readlink(let node), .getContent(let node), .getContentInline(let node):
            buffer.writeInteger(node)
        case .readdir(let directory, let cookie, let limit):
            guard limit >= 1, limit <= Limits.maxReaddirPage else {
                throw NetStoreError(.invalid, "a readdir limit is 1 to \(Limits.maxReaddirPage), not \(limit)")
            }
            buffer.writeInteger(directory)
            buffer.writeInteger(cookie)
            buffer.writeInteger(limit)
        case .mkdir(let parent, let name, let mode, let uid, let gid),
             .create(let parent, let name, let mode, let uid, let gid):
            buffer.writeInteger(parent)
            try buffer.writeString16(name, .name)
            buffer.writeInteger(mode)
            buffer.writeInteger(uid)
            buffer.writeInteger(gid)
        case .mknod(let parent, let name, let kind, let mode, let uid, let gid, let rdev):
            buffer.writeInteger(parent)
            try buffer.writeString16(name, .name)
            buffer.writeInteger(kind.rawValue)
            buffer.writeInteger(mode)
            buffer.writeInteger(uid)
            buffer.writeInteger(gid)
            buffer.writeInteger(rdev)
        case .rename(let parent, let name, let newParent, let newName, let flags):
            guard RenameFlags.known.isSuperset(of: flags) else {
                throw NetStoreError(.invalid, "unknown rename flags \(flags.rawValue)")
            }
            buffer.writeInteger(parent)
            try buffer.writeString16(name, .name)
            buffer.writeInteger(newParent)
            try buffer.writeString16(newName, .name)
            buffer.writeInteger(flags.rawValue)
        case .link(let node, let newParent, let newName):
            buffer.writeInteger(node)
            buffer.writeInteger(newParent)
            try buffer.writeString16(newName, .name)
        case .symlink(let parent, let name, let target, let uid, let gid):
            buffer.writeInteger(parent)
            try buffer.writeString16(name, .name)
            try buffer.writeString16(target, .symlinkTarget)
            buffer.writeInteger(uid)
            buffer.writeInteger(gid)
        case .setattr(let node, let changes):
            buffer.writeInteger(node)
            buffer.writeSetAttributes(changes)
        case .hasBlocks(let ids):
            try buffer.writeBlockIDs(ids, .hashQuery)
        case .putBlock(let id, let data):
            buffer.writeBlockID(id)
            try buffer.writeBytes32(data, .blockData)
        case .getBlock(let id):
            buffer.writeBlockID(id)
        case .commit(let node, let baseVersion, let size, let blocks):
            buffer.writeInteger(node)
            buffer.writeInteger(baseVersion)
            buffer.writeInteger(size)
            try buffer.writeBlockIDs(blocks, .blockList)
        case .commitInline(let node, let baseVersion, let data):
            buffer.writeInteger(node)
            buffer.writeInteger(baseVersion)
            try buffer.writeBytes32(data, .blockData)
        case .createInline(let parent, let name, let mode, let uid, let gid, let data):
            buffer.writeInteger(parent)
            try buffer.writeString16(name, .name)
            buffer.writeInteger(mode)
            buffer.writeInteger(uid)
            buffer.writeInteger(gid)
            try buffer.writeBytes32(data, .blockData)
        case .removeBatch(let entries):
            try buffer.writeCount(entries.count, .batchRemovals)
            for entry in entries {
                buffer.writeInteger(entry.parent)
                try buffer.writeString16(entry.name, .name)
                buffer.writeBool(entry.isDirectory)
            }
        case .createInlineBatch(let files):
            try buffer.writeCount(files.count, .batchFiles)
            let total = files.reduce(0) { $0 + $1.data.readableBytes }
            guard total <= Limits.maxBatchContent else {
                throw NetStoreError(.invalid, "a batch carries at most \(Limits.maxBatchContent) bytes of content, not \(total)")
            }
            for file in files {
                buffer.writeInteger(file.parent)
                try buffer.writeString16(file.name, .name)
                buffer.writeInteger(file.mode)
                buffer.writeInteger(file.uid)
                buffer.writeInteger(file.gid)
                try buffer.writeBytes32(file.data, .inlineContent)
            }
        case .userAdd(let name, let password, let role):
            try buffer.writeString16(name, .userName)
            try buffer.writeString16(password, .password)
            buffer.writeInteger(role.rawValue)
        case .userPasswd(let name, let oldPassword, let newPassword):
            try buffer.writeString16(name, .userName)
            try buffer.writeString16(oldPassword, .password)
            try buffer.writeString16(newPassword, .password)
        case .userRemove(let name):
            try buffer.writeString16(name, .userName)
        case .replicate(let from, let message), .replicateNotice(let from, let message):
            buffer.writeInteger(from)
            try buffer.writeReplicationMessage(message)
        case .replicateWithBlocks(let from, let blocks, let message):
            buffer.writeInteger(from)
            try buffer.writeCount(blocks.count, .carriedBlocks)
            for block in blocks {
                buffer.writeBlockID(block.id)
                try buffer.writeBytes32(block.data, .blockData)
            }
            try buffer.writeReplicationMessage(message)
        case .replicaPutBlock(let id, let data), .repairBlock(let id, let data):
            buffer.writeBlockID(id)
            try buffer.writeBytes32(data, .blockData)
        case .checkBlocks(let after, let limit):
            guard limit >= 1, limit <= Limits.maxHashesPerQuery else {
                throw NetStoreError(.invalid, "a block check page is 1 to \(Limits.maxHashesPerQuery) blocks, not \(limit)")
            }
            buffer.writeBlockID(after)
            buffer.writeInteger(limit)
        case .replicaGetBlock(let id):
            buffer.writeBlockID(id)
        case .snapshotBegin(let from, let offer):
            buffer.writeInteger(from)
            buffer.writePosition(offer.position)
            buffer.writeInteger(offer.size)
            buffer.writeBytes(offer.sha256)
        case .snapshotChunk(let from, let sha256, let offset, let data):
            guard sha256.count == 32 else { throw NetStoreError(.invalid, "a snapshot is named by its 32-byte SHA-256, not \(sha256.count) bytes") }
            buffer.writeInteger(from)
            buffer.writeBytes(sha256)
            buffer.writeInteger(offset)
            try buffer.writeBytes32(data, .snapshotChunk)
        }
    }

    static func readPayload(of opcode: Opcode, from reader: inout PayloadReader) throws(ProtocolError) -> Request {
        switch opcode {
        case .ping: return .ping
        case .logout: return .logout
        case .status: return .status
        case .statfs: return .statfs
        case .userList: return .userList
        case .digest: return .digest
        case .promote: return .promote
        case .watch: return .watch
        case .changes: throw ProtocolError("CHANGES is sent only by servers, never as a request")
        case .replicate:
            return .replicate(from: try reader.u32("replica"), message: try reader.replicationMessage())
        case .replicateNotice:
            return .replicateNotice(from: try reader.u32("replica"), message: try reader.replicationMessage())
        case .replicateWithBlocks:
            let from = try reader.u32("replica")
            // Each block: its id and a bytes32 length.
            let count = try reader.count(.carriedBlocks, minElementSize: BlockID.byteCount + 4)
            var blocks: [CarriedBlock] = []
            blocks.reserveCapacity(count)
            for _ in 0..<count {
                blocks.append(CarriedBlock(id: try reader.blockID(), data: try reader.bytes32(.blockData)))
            }
            return .replicateWithBlocks(from: from, blocks: blocks, message: try reader.replicationMessage())
        case .replicaPutBlock:
            return .replicaPutBlock(id: try reader.blockID(), data: try reader.bytes32(.blockData))
        case .repairBlock:
            return .repairBlock(id: try reader.blockID(), data: try reader.bytes32(.blockData))
        case .replicaGetBlock:
            return .replicaGetBlock(id: try reader.blockID())
        case .checkBlocks:
            let after = try reader.blockID()
            let limit = try reader.u32("limit")
            guard limit >= 1, limit <= Limits.maxHashesPerQuery else {
                throw ProtocolError("block check limit \(limit) is outside 1...\(Limits.maxHashesPerQuery)")
            }
            return .checkBlocks(after: after, limit: limit)
        case .snapshotBegin:
            let from = try reader.u32("replica"), position = try reader.position("a snapshot position")
            let size = try reader.u64("a snapshot size")
            return .snapshotBegin(from: from, offer: SnapshotOffer(position: position, size: size, sha256: try reader.blockID().bytes))
        case .snapshotChunk:
            let from = try reader.u32("replica"), sha256 = try reader.blockID().bytes
            let offset = try reader.u64("a snapshot offset")
            return .snapshotChunk(from: from, sha256: sha256, offset: offset, data: try reader.bytes32(.snapshotChunk))
        case .login:
            return .login(user: try reader.string16(.userName), password: try reader.string16(.password))
        case .auth:
            return .auth(token: try reader.string16(.token))
        case .lookup:
            return .lookup(parent: try reader.u64("parent"), name: try reader.string16(.name))
        case .unlink:
            return .unlink(parent: try reader.u64("parent"), name: try reader.string16(.name))
        case .rmdir:
            return .rmdir(parent: try reader.u64("parent"), name: try reader.string16(.name))
        case .getattr:
            return .getattr(node: try reader.u64("node"))
        case .readlink:
            return .readlink(node: try reader.u64("node"))
        case .getContent:
            return .getContent(node: try reader.u64("node"))
        case .getContentInline:
            return .getContentInline(node: try reader.u64("node"))
        case .readdir:
            let directory = try reader.u64("directory"), cookie = try reader.u64("cookie")
            let limit = try reader.u32("limit")
            guard limit >= 1, limit <= Limits.maxReaddirPage else {
                throw ProtocolError("readdir limit \(limit) is outside 1...\(Limits.maxReaddirPage)")
            }
            return .readdir(directory: directory, cookie: cookie, limit: limit)
        case .mkdir:
            return .mkdir(
                parent: try reader.u64("parent"), name: try reader.string16(.name), mode: try reader.u32("mode"),
                uid: try reader.u32("uid"), gid: try reader.u32("gid"))
        case .create:
            return .create(
                parent: try reader.u64("parent"), name: try reader.string16(.name), mode: try reader.u32("mode"),
                uid: try reader.u32("uid"), gid: try reader.u32("gid"))
        case .mknod:
            return .mknod(
                parent: try reader.u64("parent"), name: try reader.string16(.name), kind: try reader.nodeKind(),
                mode: try reader.u32("mode"), uid: try reader.u32("uid"), gid: try reader.u32("gid"),
                rdev: try reader.u64("rdev"))
        case .rename:
            let parent = try reader.u64("parent"), name = try reader.string16(.name)
            let newParent = try reader.u64("new parent"), newName = try reader.string16(.name)
            let flags = RenameFlags(rawValue: try reader.u32("rename flags"))
            guard RenameFlags.known.isSuperset(of: flags) else {
                throw ProtocolError("unknown rename flags \(flags.rawValue)")
            }
            return .rename(parent: parent, name: name, newParent: newParent, newName: newName, flags: flags)
        case .link:
            return .link(
                node: try reader.u64("node"), newParent: try reader.u64("new parent"),
                newName: try reader.string16(.name))
        case .symlink:
            return .symlink(
                parent: try reader.u64("parent"), name: try reader.string16(.name),
                target: try reader.string16(.symlinkTarget), uid: try reader.u32("uid"), gid: try reader.u32("gid"))
        case .setattr:
            return .setattr(node: try reader.u64("node"), changes: try reader.setAttributes())
        case .hasBlocks:
            return .hasBlocks(try reader.blockIDs(.hashQuery))
        case .putBlock:
            return .putBlock(id: try reader.blockID(), data: try reader.bytes32(.blockData))
        case .getBlock:
            return .getBlock(id: try reader.blockID())
        case .commit:
            return .commit(
                node: try reader.u64("node"), baseVersion: try reader.u64("base version"),
                size: try reader.u64("size"), blocks: try reader.blockIDs(.blockList))
        case .commitInline:
            return .commitInline(
                node: try reader.u64("node"), baseVersion: try reader.u64("base version"),
                data: try reader.bytes32(.blockData))
        case .createInline:
            return .createInline(
                parent: try reader.u64("parent"), name: try reader.string16(.name), mode: try reader.u32("mode"),
                uid: try reader.u32("uid"), gid: try reader.u32("gid"), data: try reader.bytes32(.blockData))
        case .createInlineBatch:
            // parent, name length, mode, uid, gid, data length
            let count = try reader.count(.batchFiles, minElementSize: 8 + 2 + 12 + 4)
            var files: [InlineFile] = []
            files.reserveCapacity(count)
            var total = 0
            for _ in 0..<count {
                let file = InlineFile(
                    parent: try reader.u64("parent"), name: try reader.string16(.name), mode: try reader.u32("mode"),
                    uid: try reader.u32("uid"), gid: try reader.u32("gid"), data: try reader.bytes32(.inlineContent))
                total += file.data.readableBytes
                guard total <= Limits.maxBatchContent else {
                    throw ProtocolError("a batch carries over \(Limits.maxBatchContent) bytes of content")
                }
                files.append(file)
            }
            return .createInlineBatch(files: files)
        case .removeBatch:
            // parent, name length, whether a directory
            let count = try reader.count(.batchRemovals, minElementSize: 8 + 2 + 1)
            var entries: [EntryRemoval] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                entries.append(EntryRemoval(parent: try reader.u64("parent"), name: try reader.string16(.name),
                                            isDirectory: try reader.bool("whether a directory")))
            }
            return .removeBatch(entries: entries)
        case .userAdd:
            return .userAdd(
                name: try reader.string16(.userName), password: try reader.string16(.password),
                role: try reader.role())
        case .userPasswd:
            return .userPasswd(
                name: try reader.string16(.userName), oldPassword: try reader.string16(.password),
                newPassword: try reader.string16(.password))
        case .userRemove:
            return .userRemove(name: try reader.string16(.userName))
        }
    }
}

extension RenameFlags {
    /// The only flags the wire carries; any other bit is malformed.
    static let known: RenameFlags = [.noReplace, .exchange]
}
