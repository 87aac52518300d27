import NIOCore
import NetStoreCore

/// Response payloads (docs/protocol.md, "Response payloads"). The opcode the
/// frame answers decides the payload's shape.
enum ResponseCodec {
    /// Whether `response` is the kind of reply `opcode` gets.
    static func response(_ response: Response, answers opcode: Opcode) -> Bool {
        switch (response, opcode) {
        case (.empty, .ping), (.empty, .logout), (.empty, .rename),
             (.empty, .putBlock), (.empty, .userPasswd), (.empty, .userRemove), (.empty, .replicaPutBlock), (.empty, .promote),
             (.blocksNeeded, .replicate), (.blocksNeeded, .replicateWithBlocks), (.digest, .digest),
             (.blockCheck, .checkBlocks), (.repaired, .repairBlock), (.block, .replicaGetBlock),
             (.snapshotReceived, .snapshotBegin), (.snapshotReceived, .snapshotChunk),
             (.empty, .watch), (.changes, .changes), (.outcomes, .createInlineBatch), (.outcomes, .removeBatch):
            return true
        case (.session, .login), (.session, .auth):
            return true
        case (.attributes, .lookup), (.attributes, .getattr), (.attributes, .mkdir), (.attributes, .create),
             (.attributes, .mknod), (.attributes, .link), (.attributes, .symlink), (.attributes, .setattr),
             (.attributes, .commit), (.attributes, .commitInline), (.attributes, .createInline), (.attributes, .unlink), (.attributes, .rmdir):
            return true
        case (.page, .readdir), (.target, .readlink), (.stats, .statfs), (.status, .status),
             (.presence, .hasBlocks), (.block, .getBlock), (.content, .getContent), (.contentInline, .getContentInline), (.user, .userAdd),
             (.users, .userList):
            return true
        default:
            return false
        }
    }

    static func writePayload(of response: Response, into buffer: inout ByteBuffer) throws(NetStoreError) {
        switch response {
        case .empty:
            break
        case .session(let session):
            try buffer.writeString16(session.token, .token)
            try buffer.writeUser(session.user)
            buffer.writeInteger(session.expiresNs)
        case .attributes(let attributes):
            buffer.writeAttributes(attributes)
        case .page(let page):
            buffer.writeBool(page.isLast)
            try buffer.writeCount(page.entries.count, .directoryPage)
            for entry in page.entries {
                try buffer.writeString16(entry.name, .name)
                buffer.writeInteger(entry.cookie)
                buffer.writeAttributes(entry.attributes)
            }
        case .target(let target):
            try buffer.writeString16(target, .symlinkTarget)
        case .stats(let stats):
            buffer.writeInteger(stats.blockSize)
            buffer.writeInteger(stats.totalBytes)
            buffer.writeInteger(stats.freeBytes)
            buffer.writeInteger(stats.availableBytes)
            buffer.writeInteger(stats.totalFiles)
            buffer.writeInteger(stats.freeFiles)
            buffer.writeInteger(stats.maxNameLength)
        case .status(let status):
            try buffer.writeString16(status.role, .text)
            try buffer.writeString16(status.softwareVersion, .text)
            buffer.writeInteger(status.uptimeSeconds)
            buffer.writeInteger(status.nodeCount)
            buffer.writeInteger(status.userCount)
            buffer.writeInteger(status.blockCount)
            buffer.writeInteger(status.blockBytes)
            buffer.writeInteger(status.term)
            buffer.writeInteger(status.lastIndex)
            buffer.writeInteger(status.commitIndex)
            buffer.writeInteger(status.appliedIndex)
        case .presence(let flags):
            try buffer.writeCount(flags.count, .hashQuery)
            for flag in flags { buffer.writeBool(flag) }
        case .block(let data):
            try buffer.writeBytes32(data, .blockData)
        case .content(let content):
            try buffer.writeContent(content)
        case .contentInline(let content, let data):
            try buffer.writeContent(content)
            try buffer.writeBytes32(data, .blockData)
        case .user(let user):
            try buffer.writeUser(user)
        case .users(let users):
            try buffer.writeCount(users.count, .userList)
            for user in users { try buffer.writeUser(user) }
        case .blocksNeeded(let ids):
            try buffer.writeBlockIDs(ids, .hashQuery)
        case .digest(let digest):
            buffer.writeInteger(digest.appliedIndex)
            buffer.writeBytes(digest.sha256)
        case .blockCheck(let page):
            buffer.writeBool(page.isLast)
            buffer.writeBlockID(page.last)
            buffer.writeInteger(page.checked)
            buffer.writeInteger(page.bytesChecked)
            try buffer.writeCount(page.problems.count, .hashQuery)
            for problem in page.problems {
                buffer.writeBlockID(problem.id)
                buffer.writeInteger(problem.kind.rawValue)
            }
        case .repaired(let replaced):
            buffer.writeBool(replaced)
        case .snapshotReceived(let bytes):
            buffer.writeInteger(bytes)
        case .changes(let notices):
            try buffer.writeCount(notices.count, .notices)
            for notice in notices { try buffer.writeNotice(notice) }
        case .outcomes(let outcomes):
            try buffer.writeCount(outcomes.count, .batchFiles)
            for outcome in outcomes {
                switch outcome {
                case .success(let attributes):
                    buffer.writeInteger(UInt16(0))
                    buffer.writeAttributes(attributes)
                case .failure(let error):
                    buffer.writeInteger(error.code.rawValue)
                    try buffer.writeString16(String(error.message.utf8.prefix(Limits.maxMessageLength))!, .message)
                }
            }
        }
    }

    static func readPayload(answering opcode: Opcode, from reader: inout PayloadReader) throws(ProtocolError) -> Response {
        switch opcode {
        case .ping, .logout, .rename, .putBlock, .userPasswd, .userRemove, .replicaPutBlock, .promote, .watch:
            return .empty
        case .changes:
            let count = try reader.count(.notices, minElementSize: 1)
            var notices: [ChangeNotice] = []
            notices.reserveCapacity(count)
            for _ in 0..<count { notices.append(try reader.notice()) }
            return .changes(notices)
        case .createInlineBatch, .removeBatch:
            // status u16, then attributes or a message (u16 length at least)
            let count = try reader.count(.batchFiles, minElementSize: 4)
            var outcomes: [Result<NodeAttributes, NetStoreError>] = []
            outcomes.reserveCapacity(count)
            for _ in 0..<count {
                let status = try reader.u16("a file's status")
                if status == 0 {
                    outcomes.append(.success(try reader.attributes()))
                } else {
                    guard let code = ErrorCode(rawValue: status) else { throw ProtocolError("unknown error code \(status)") }
                    outcomes.append(.failure(NetStoreError(code, try reader.string16(.message))))
                }
            }
            return .outcomes(outcomes)
        case .replicate, .replicateWithBlocks:
            return .blocksNeeded(try reader.blockIDs(.hashQuery))
        case .replicateNotice:
            throw ProtocolError("a replicate notice is answered only when refused, with an error")
        case .snapshotBegin, .snapshotChunk:
            return .snapshotReceived(try reader.u64("the bytes received"))
        case .digest:
            let index = try reader.u64("applied index")
            return .digest(StateDigest(appliedIndex: index, sha256: try reader.blockID().bytes))
        case .login, .auth:
            return .session(SessionInfo(
                token: try reader.string16(.token), user: try reader.user(), expiresNs: try reader.i64("expiry")))
        case .lookup, .getattr, .mkdir, .create, .mknod, .link, .symlink, .setattr, .commit, .commitInline, .createInline, .unlink, .rmdir:
            return .attributes(try reader.attributes())
        case .readdir:
            let isLast = try reader.bool("isLast")
            let count = try reader.count(.directoryPage, minElementSize: 2 + 8 + PayloadReader.attributesSize)
            var entries = [DirectoryEntry]()
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let name = try reader.string16(.name)
                let cookie = try reader.u64("cookie")
                entries.append(DirectoryEntry(name: name, attributes: try reader.attributes(), cookie: cookie))
            }
            return .page(DirectoryPage(entries: entries, isLast: isLast))
        case .readlink:
            return .target(try reader.string16(.symlinkTarget))
        case .statfs:
            return .stats(FileSystemStats(
                blockSize: try reader.u32("stats"), totalBytes: try reader.u64("stats"),
                freeBytes: try reader.u64("stats"), availableBytes: try reader.u64("stats"),
                totalFiles: try reader.u64("stats"), freeFiles: try reader.u64("stats"),
                maxNameLength: try reader.u32("stats")))
        case .status:
            return .status(ServerStatus(
                role: try reader.string16(.text), softwareVersion: try reader.string16(.text),
                uptimeSeconds: try reader.u64("status"), nodeCount: try reader.u64("status"),
                userCount: try reader.u64("status"), blockCount: try reader.u64("status"),
                blockBytes: try reader.u64("status"), term: try reader.u64("status"),
                lastIndex: try reader.u64("status"), commitIndex: try reader.u64("status"),
                appliedIndex: try reader.u64("status")))
        case .hasBlocks:
            let count = try reader.count(.hashQuery, minElementSize: 1)
            var flags = [Bool]()
            flags.reserveCapacity(count)
            for _ in 0..<count { flags.append(try reader.bool("a presence flag")) }
            return .presence(flags)
        case .getBlock, .replicaGetBlock:
            return .block(try reader.bytes32(.blockData))
        case .repairBlock:
            return .repaired(try reader.bool("replaced"))
        case .checkBlocks:
            let isLast = try reader.bool("isLast")
            let last = try reader.blockID()
            let checked = try reader.u32("checked")
            let bytes = try reader.u64("bytes checked")
            let count = try reader.count(.hashQuery, minElementSize: BlockID.byteCount + 1)
            guard count <= Int(checked) else { throw ProtocolError("a block check reports \(count) problems among \(checked) blocks") }
            var problems: [BlockProblem] = []
            problems.reserveCapacity(count)
            for _ in 0..<count {
                let id = try reader.blockID()
                let raw = try reader.u8("a block problem")
                guard let kind = BlockProblem.Kind(rawValue: raw) else { throw ProtocolError("unknown block problem \(raw)") }
                problems.append(BlockProblem(id: id, kind: kind))
            }
            return .blockCheck(BlockCheckPage(
                checked: checked, bytesChecked: bytes, problems: problems, last: last, isLast: isLast))
        case .getContent:
            return .content(try reader.content())
        case .getContentInline:
            return .contentInline(try reader.content(), data: try reader.bytes32(.blockData))
        case .userAdd:
            return .user(try reader.user())
        case .userList:
            let count = try reader.count(.userList, minElementSize: PayloadReader.minUserSize)
            var users = [UserInfo]()
            users.reserveCapacity(count)
            for _ in 0..<count { users.append(try reader.user()) }
            return .users(users)
        }
    }
}
