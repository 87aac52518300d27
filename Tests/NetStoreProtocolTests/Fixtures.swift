import NIOCore
import NetStoreCore
import NetStoreReplication
@testable import NetStoreProtocol

/// Sample values and frames: one of every request and every response.
enum Fixtures {
    static func block(_ byte: UInt8) -> BlockID {
        BlockID(bytes: [UInt8](repeating: byte, count: BlockID.byteCount))!
    }

    static let attributes = NodeAttributes(
        id: 5, kind: .file, mode: 0o644, uid: 1000, gid: 1000, nlink: 1, size: 4096,
        atimeNs: 1_000_000_000, mtimeNs: 2_000_000_000, ctimeNs: -1, version: 2)
    static let directory = NodeAttributes(
        id: 1, kind: .directory, mode: 0o755, uid: 0, gid: 0, nlink: 3, size: 0,
        atimeNs: .min, mtimeNs: .max, ctimeNs: 0, version: .max)
    /// A block device with the largest device number (rdev's every bit on the wire).
    static let device = NodeAttributes(
        id: 9, kind: .blockDevice, mode: 0o660, uid: 0, gid: 6, nlink: 1, size: 0,
        atimeNs: 1, mtimeNs: 2, ctimeNs: 3, version: 0, rdev: .max)
    static let alice = UserInfo(id: 2, name: "alice", role: .user, rootNode: 10, createdNs: 1_700_000_000_000_000_000)
    static let root = UserInfo(id: 1, name: "root", role: .admin, rootNode: 1, createdNs: 0)
    static let data = ByteBuffer(bytes: (0..<100).map { UInt8($0) })

    static let requests: [Request] = [
        .ping,
        .login(user: "alice", password: "correct horse"),
        .auth(token: "tok-0123456789"),
        .logout,
        .status,
        .lookup(parent: 1, name: "a.txt"),
        .getattr(node: 5),
        .readdir(directory: 1, cookie: 0, limit: 100),
        .mkdir(parent: 1, name: "docs", mode: 0o755, uid: 1000, gid: 100),
        .create(parent: 1, name: "new file", mode: 0o644, uid: 1000, gid: 100),
        .mknod(parent: 1, name: "pipe", kind: .fifo, mode: 0o600, uid: 1, gid: 2, rdev: 0),
        .mknod(parent: 1, name: "sock", kind: .socket, mode: 0o755, uid: 1, gid: 2, rdev: 0),
        .mknod(parent: 1, name: "null", kind: .characterDevice, mode: 0o666, uid: 0, gid: 0, rdev: 0x103),
        .mknod(parent: 1, name: "loop0", kind: .blockDevice, mode: 0o660, uid: 0, gid: 6, rdev: .max),
        .unlink(parent: 1, name: "old"),
        .rmdir(parent: 1, name: "empty"),
        .rename(parent: 1, name: "a", newParent: 2, newName: "b", flags: [.noReplace]),
        .rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: [.exchange]),
        .link(node: 5, newParent: 2, newName: "hard link"),
        .symlink(parent: 1, name: "ln", target: "../some/where", uid: 1000, gid: 100),
        .readlink(node: 7),
        .setattr(node: 5, changes: SetAttributes()),
        .setattr(node: 5, changes: SetAttributes(
            mode: 0o600, uid: 3, gid: 4, size: 1 << 40, atime: .now, mtime: .nanoseconds(-5))),
        .setattr(node: 5, changes: SetAttributes(size: 0, mtime: .now)),
        .statfs,
        .hasBlocks([]),
        .hasBlocks([block(1), block(2), .hole]),
        .putBlock(id: block(3), data: data),
        .putBlock(id: block(4), data: ByteBuffer()),
        .getBlock(id: block(5)),
        .commit(node: 5, baseVersion: 2, size: 2_000_000, blocks: [block(6), .hole]),
        .getContent(node: 5),
        .getContentInline(node: 6),
        .commitInline(node: 5, baseVersion: 2, data: data),
        .commitInline(node: 5, baseVersion: 0, data: ByteBuffer()),
        .createInline(parent: 1, name: "new file", mode: 0o640, uid: 1000, gid: 100, data: data),
        .createInline(parent: 7, name: "é", mode: 0o600, uid: 0, gid: 0, data: ByteBuffer()),
        .createInlineBatch(files: [
            InlineFile(parent: 1, name: "a", mode: 0o644, uid: 1000, gid: 100, data: data),
            InlineFile(parent: 9, name: "ü", mode: 0o600, uid: 0, gid: 0, data: ByteBuffer()),
        ]),
        .createInlineBatch(files: []),
        .removeBatch(entries: [
            EntryRemoval(parent: 1, name: "a", isDirectory: false),
            EntryRemoval(parent: 9, name: "ü dir", isDirectory: true),
        ]),
        .removeBatch(entries: []),
        .userAdd(name: "bob", password: "s3cret-pass", role: .admin),
        .userPasswd(name: "bob", oldPassword: "", newPassword: "ünïcødé 🔑"),
        .userList,
        .userRemove(name: "bob"),
        .digest,
        .promote,
        .replicaPutBlock(id: block(4), data: data),
        .checkBlocks(after: .hole, limit: 1),
        .checkBlocks(after: block(8), limit: UInt32(Limits.maxHashesPerQuery)),
        .repairBlock(id: block(3), data: data),
        .replicaGetBlock(id: block(5)),
        .snapshotBegin(from: 1, offer: SnapshotOffer(
            position: LogPosition(index: LogIndex(50), term: Term(1)), size: 12_345, sha256: block(8).bytes)),
        .snapshotChunk(from: 1, sha256: block(8).bytes, offset: 1 << 20, data: data),
        .snapshotChunk(from: 1, sha256: block(8).bytes, offset: 0, data: ByteBuffer()),
        .replicate(from: 2, message: .append(AppendEntries(
            term: Term(3), previous: LogPosition(index: LogIndex(9), term: Term(2)),
            entries: [LogEntry(term: Term(3), index: LogIndex(10), payload: []),
                      LogEntry(term: Term(3), index: LogIndex(11), payload: [1, 2, 3])],
            commit: LogIndex(8)))),
        .replicate(from: 1, message: .append(AppendEntries(term: Term(1), previous: .zero, entries: [], commit: .zero))),
        .replicateWithBlocks(from: 2, blocks: [CarriedBlock(id: block(6), data: data), CarriedBlock(id: block(7), data: ByteBuffer())],
                             message: .append(AppendEntries(
                                term: Term(3), previous: LogPosition(index: LogIndex(9), term: Term(2)),
                                entries: [LogEntry(term: Term(3), index: LogIndex(10), payload: [4, 5])], commit: LogIndex(9)))),
        .replicate(from: 3, message: .appendResponse(AppendResponse(
            term: Term(4), success: false, index: LogIndex(7), durable: LogIndex(5),
            hint: LogPosition(index: LogIndex(6), term: Term(2))))),
        .replicateNotice(from: 2, message: .appendResponse(AppendResponse(
            term: Term(4), success: true, index: LogIndex(7), durable: LogIndex(7)))),
        .replicate(from: 1, message: .installSnapshot(SnapshotHeader(term: Term(2), position: LogPosition(index: LogIndex(50), term: Term(1))))),
        .replicate(from: 2, message: .voteRequest(VoteRequest(term: Term(5), last: LogPosition(index: LogIndex(3), term: Term(4)), preVote: true))),
        .watch,
        .replicate(from: 3, message: .voteResponse(VoteResponse(
            term: Term(5), granted: true, preVote: false, voterLast: LogPosition(index: LogIndex(2), term: Term(1))))),
    ]

    static var requestFrames: [RequestFrame] {
        requests.enumerated().map { RequestFrame(requestID: UInt64($0.offset) * 0x0101_0101 + 1, request: $0.element) }
    }

    static let responses: [(Opcode, Response)] = [
        (.ping, .empty),
        (.rename, .empty),
        (.login, .session(SessionInfo(token: "tok-0123456789", user: alice, expiresNs: 1 << 62))),
        (.auth, .session(SessionInfo(token: "", user: root, expiresNs: -3))),
        (.getattr, .attributes(attributes)),
        (.commit, .attributes(directory)),
        (.createInline, .attributes(attributes)),
        (.createInlineBatch, .outcomes([])),
        (.removeBatch, .outcomes([.success(directory), .failure(NetStoreError(.notEmpty, "directory 'd' is not empty"))])),
        (.createInlineBatch, .outcomes([.success(attributes), .failure(NetStoreError(.exists, "'a' already exists")), .success(device)])),
        (.mknod, .attributes(device)),
        (.readdir, .page(DirectoryPage(entries: [], isLast: true))),
        (.readdir, .page(DirectoryPage(entries: [
            DirectoryEntry(name: "a.txt", attributes: attributes, cookie: 1),
            DirectoryEntry(name: "ÄÖÜ", attributes: directory, cookie: .max),
        ], isLast: false))),
        (.readlink, .target("../target")),
        (.statfs, .stats(FileSystemStats(
            blockSize: 1 << 20, totalBytes: 1 << 40, freeBytes: 1 << 39, availableBytes: 1 << 38,
            totalFiles: 1_000_000, freeFiles: 999_000, maxNameLength: 255))),
        (.status, .status(ServerStatus(
            role: "primary", softwareVersion: "0.1.0", uptimeSeconds: 42, nodeCount: 10, userCount: 2,
            blockCount: 7, blockBytes: 7 << 20))),
        (.status, .status(ServerStatus(
            role: "backup", softwareVersion: "0.2.0", uptimeSeconds: 1, nodeCount: 3, userCount: 1,
            blockCount: 0, blockBytes: 0, term: 4, lastIndex: 90, commitIndex: 88, appliedIndex: 87))),
        (.replicate, .blocksNeeded([])),
        (.replicate, .blocksNeeded([block(1), block(2)])),
        (.replicateWithBlocks, .blocksNeeded([block(3)])),
        (.replicaPutBlock, .empty),
        (.digest, .digest(StateDigest(appliedIndex: 12, sha256: block(7).bytes))),
        (.promote, .empty),
        (.checkBlocks, .blockCheck(BlockCheckPage(checked: 0, bytesChecked: 0, problems: [], last: .hole, isLast: true))),
        (.checkBlocks, .blockCheck(BlockCheckPage(
            checked: 1024, bytesChecked: 1 << 30,
            problems: [BlockProblem(id: block(1), kind: .missing), BlockProblem(id: block(2), kind: .corrupt)],
            last: block(9), isLast: false))),
        (.repairBlock, .repaired(true)),
        (.repairBlock, .repaired(false)),
        (.replicaGetBlock, .block(data)),
        (.snapshotBegin, .snapshotReceived(0)),
        (.snapshotChunk, .snapshotReceived(1 << 40)),
        (.hasBlocks, .presence([true, false, true])),
        (.hasBlocks, .presence([])),
        (.getBlock, .block(data)),
        (.getContent, .content(FileContent(version: 3, size: 5, blocks: [block(9)]))),
        (.getContentInline, .contentInline(FileContent(version: 3, size: 5, blocks: [block(9)]), data: data)),
        (.getContentInline, .contentInline(FileContent(version: 1, size: 1 << 30, blocks: [block(1), block(2)]), data: ByteBuffer())),
        (.userAdd, .user(alice)),
        (.userList, .users([root, alice])),
        (.userList, .users([])),
        (.watch, .empty),
        (.changes, .changes([])),
        (.changes, .changes([.node(5), .entry(parent: 1, name: "ÄÖÜ"), .reset, .ended, .node(.max)])),
    ]

    static let errors: [(Opcode, NetStoreError)] = [
        (.lookup, NetStoreError(.noEntry, "no entry 'x' in directory 1")),
        (.login, NetStoreError(.badCredentials, "wrong user name or password")),
        (.commit, NetStoreError(.missingBlocks, "")),
        (.getBlock, NetStoreError(.corruptBlock, "block ab… failed its hash check")),
        (.mkdir, NetStoreError(.notPrimary, "ask the primary")),
    ]

    static var responseFrames: [ResponseFrame] {
        var frames = responses.enumerated().map {
            // CHANGES frames carry their one reserved id.
            let id = $0.element.0 == .changes ? ChangeNotice.frameRequestID : UInt64($0.offset) + 1000
            return ResponseFrame(requestID: id, opcode: $0.element.0, result: .success($0.element.1))
        }
        frames += errors.enumerated().map {
            ResponseFrame(requestID: UInt64($0.offset) + 2000, opcode: $0.element.0, result: .failure($0.element.1))
        }
        // Every error code travels.
        frames += ErrorCode.allCases.map {
            ResponseFrame(requestID: 3000 + UInt64($0.rawValue), opcode: .ping, result: .failure(NetStoreError($0, $0.name)))
        }
        return frames
    }

    static func encoded(_ frame: RequestFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        FrameCodec.encode(frame, into: &buffer)
        return buffer
    }

    static func encoded(_ frame: ResponseFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        FrameCodec.encode(frame, into: &buffer)
        return buffer
    }
}

extension ByteBuffer {
    /// Bytes from hex digits; spaces and line breaks are ignored.
    init(hex: String) {
        let digits = hex.filter { !$0.isWhitespace }
        precondition(digits.count % 2 == 0, "odd number of hex digits")
        var bytes = [UInt8]()
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes: bytes)
    }

    var hexDump: String {
        readableBytesView.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined(separator: " ")
    }
}

/// A frame built field by field, to make malformed ones.
func rawFrame(
    kind: UInt8 = 1, opcode: UInt16, status: UInt16 = 0, requestID: UInt64 = 1,
    magic: UInt16 = 0x4E53, version: UInt8 = 1, payload: (inout ByteBuffer) -> Void = { _ in }
) -> ByteBuffer {
    var body = ByteBuffer()
    payload(&body)
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(16 + body.readableBytes))
    buffer.writeInteger(magic)
    buffer.writeInteger(version)
    buffer.writeInteger(kind)
    buffer.writeInteger(opcode)
    buffer.writeInteger(status)
    buffer.writeInteger(requestID)
    buffer.writeImmutableBuffer(body)
    return buffer
}
