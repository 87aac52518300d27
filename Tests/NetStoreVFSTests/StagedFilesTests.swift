import Crypto
import Foundation
import Logging
import NetStoreCore
@testable import NetStoreVFS
import Testing

@Suite("Write-back mode: new small files staged at close, made by the server in batches")
struct StagedFilesTests {
    static func create(_ h: VFSHarness, in dir: UInt64, _ name: String, _ bytes: [UInt8]) async throws -> UInt64 {
        let (attributes, opened) = try await h.vfs.create(parent: dir, name: name, mode: 0o640, flags: O_WRONLY | O_CREAT | O_EXCL, context: h.context)
        _ = try await h.vfs.write(attributes.id, handle: opened.handle, offset: 0, bytes: bytes)
        try await h.vfs.flush(attributes.id, handle: opened.handle)
        try await h.vfs.release(attributes.id, handle: opened.handle)
        return attributes.id
    }

    @Test("closes return with the files staged; this mount sees them whole; fsyncdir returns once the server has made them, in batches")
    func stagedThenMade() async throws {
        let h = try await VFSHarness(attributeTimeout: 30, writeBack: true)
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await MadeAtCloseTests.directory(h)
        var inodes: [String: UInt64] = [:]
        let contents = Dictionary(uniqueKeysWithValues: (0..<60).map { ("f\($0)", pattern(100 + 97 * $0, seed: UInt64($0))) })
        let made = try await h.requests {
            for (name, bytes) in contents.sorted(by: { $0.key < $1.key }) {
                inodes[name] = try await Self.create(h, in: dir, name, bytes)
            }
            // Staged or made by now, this mount tells each the same: its size, its inode, its bytes.
            for (name, bytes) in contents {
                let inode = inodes[name]!
                #expect(try await h.vfs.getattr(inode).size == UInt64(bytes.count), "\(name)")
                #expect(try await h.vfs.lookup(parent: dir, name: name).id == inode, "\(name)")
                #expect(try await h.readFile(inode) == bytes, "\(name)")
            }
            await h.vfs.syncStaged()
        }
        #expect(made["createInline"] == nil && made["create"] == nil && made["commit"] == nil, "\(made)")
        #expect((made["createInlineBatch"] ?? 0) >= 1 && (made["createInlineBatch"] ?? 0) < contents.count, "batched: \(made)")
        #expect(h.vfs.unmadeCount.load(ordering: .acquiring) == 0)
        for (name, bytes) in contents {
            let onServer = try await h.client.lookup(parent: dirNode, name: name)
            #expect(onServer.mode & 0o7777 == 0o640 && onServer.uid == h.context.uid, "\(name)")
            #expect(h.vfs.inodes.node(of: inodes[name]!) == onServer.id)
            #expect(try await h.serverBytes(inodes[name]!) == bytes, "\(name)")
        }
        // Every segment of the journal is gone with its files.
        #expect(try journalSegments(h.directory.appendingPathComponent("staged").path) == [])
    }

    @Test("a staged file written again is committed once it is made; a listing, an unlink or fsync waits for it to be made")
    func changedAfterStaging() async throws {
        let h = try await VFSHarness(attributeTimeout: 30, writeBack: true)
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await MadeAtCloseTests.directory(h)
        let inode = try await Self.create(h, in: dir, "log", Array("one\n".utf8))
        let opened = try await h.vfs.open(inode, flags: O_WRONLY | O_APPEND)
        _ = try await h.vfs.write(inode, handle: opened.handle, offset: 0, bytes: Array("two\n".utf8))
        try await h.vfs.fsync(inode, handle: opened.handle)
        #expect(try await h.serverBytes(inode) == Array("one\ntwo\n".utf8))
        try await h.vfs.release(inode, handle: opened.handle)

        _ = try await Self.create(h, in: dir, "listed", Array("abc".utf8))
        #expect(Set(try await h.list(dir).map(\.name)).isSuperset(of: ["log", "listed"]))
        #expect(try await h.client.lookup(parent: dirNode, name: "listed").size == 3)

        _ = try await Self.create(h, in: dir, "gone", Array("tmp".utf8))
        try await h.vfs.unlink(parent: dir, name: "gone")
        #expect(await errnoOf { _ = try await h.vfs.lookup(parent: dir, name: "gone") } == ENOENT)
        // The removal itself is staged too.
        await h.vfs.syncStaged()
        #expect(await errnoOf { _ = try await h.client.lookup(parent: dirNode, name: "gone") } == ENOENT)
    }

    @Test("an unlink of a file not open here is staged: the name is absent here at once, a listing and sync wait for the server, the name can be made again at once")
    func removalsStaged() async throws {
        let h = try await VFSHarness(attributeTimeout: 30, writeBack: true)
        defer { Task { await h.close() } }
        let made = try await h.client.mkdir(parent: h.vfs.inodes.rootNode, name: "d")
        let names = (0..<40).map { "old\($0)" }
        for name in names + ["kept"] { _ = try await h.client.createInline(parent: made.id, name: name, bytes: Array(name.utf8)) }
        let dir = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "d").id
        func list() async throws -> Set<String> { Set(try await h.list(dir).map(\.name)) }
        // Listed first, as `rm *` does: the names and that there are no others are known here.
        #expect(try await list() == Set(names + ["kept"]))
        let large = pattern(300_000, seed: 1)
        let sent = try await h.requests {
            for name in names {
                try await h.vfs.unlink(parent: dir, name: name)
                #expect(await errnoOf { _ = try await h.vfs.lookup(parent: dir, name: name) } == ENOENT, "\(name)")
            }
            // Made again at once: a small file staged after its removal, a large one made once its removal is done.
            _ = try await Self.create(h, in: dir, "old0", Array("new".utf8))
            _ = try await Self.create(h, in: dir, "old1", large)
            #expect(try await list() == ["kept", "old0", "old1"])
            await h.vfs.syncStaged()
        }
        // Sent as batches (as many as the uploader found waiting each time), none one by one.
        #expect(sent["unlink"] == nil && (1...names.count).contains(sent["removeBatch"] ?? 0), "\(sent)")
        #expect(try await h.client.readdirAll(made.id).map(\.name).sorted() == ["kept", "old0", "old1"])
        #expect(try await h.serverBytes(try await h.vfs.lookup(parent: dir, name: "old0").id) == Array("new".utf8))
        #expect(try await h.serverBytes(try await h.vfs.lookup(parent: dir, name: "old1").id) == large)
        #expect(try journalSegments(h.directory.appendingPathComponent("staged").path) == [])
    }

    @Test("rm -rf: a directory listed and emptied here is removed staged, after its entries; one not known empty waits for the server")
    func treeRemovalStaged() async throws {
        let h = try await VFSHarness(attributeTimeout: 30, writeBack: true)
        defer { Task { await h.close() } }
        let top = try await h.client.mkdir(parent: h.vfs.inodes.rootNode, name: "t")
        for a in 0..<4 {
            let middle = try await h.client.mkdir(parent: top.id, name: "m\(a)")
            _ = try await h.client.createInline(parent: middle.id, name: "file", bytes: [UInt8(a)])
            for b in 0..<5 { _ = try await h.client.mkdir(parent: middle.id, name: "leaf\(b)") }
        }
        let t = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "t").id
        // As rm -rf goes: list a directory, remove what is in it (depth first), then it.
        func remove(_ inode: UInt64) async throws {
            for name in try await h.list(inode).map(\.name) {
                let child = try await h.vfs.lookup(parent: inode, name: name)
                if child.kind == .directory {
                    try await remove(child.id)
                    try await h.vfs.rmdir(parent: inode, name: name)
                } else {
                    try await h.vfs.unlink(parent: inode, name: name)
                }
            }
        }
        let sent = try await h.requests {
            try await remove(t)
            try await h.vfs.rmdir(parent: InodeTable.rootInode, name: "t")
            #expect(await errnoOf { _ = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "t") } == ENOENT)
            await h.vfs.syncStaged()
        }
        // Every removal staged (none asked the server at once), sent in batches.
        #expect(sent["rmdir"] == nil && sent["unlink"] == nil && (1...(4 * 5 + 4 + 1 + 4)).contains(sent["removeBatch"] ?? 0), "\(sent)")
        #expect(await errnoOf { _ = try await h.client.lookup(parent: h.vfs.inodes.rootNode, name: "t") } == ENOENT)
        #expect(!FileManager.default.fileExists(atPath: h.directory.appendingPathComponent("staged/failed").path))

        // Not listed here: not known empty, so the server is asked at once (and says so).
        let other = try await h.client.mkdir(parent: h.vfs.inodes.rootNode, name: "full")
        _ = try await h.client.createInline(parent: other.id, name: "x", bytes: [1])
        _ = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "full")
        #expect(await errnoOf { try await h.vfs.rmdir(parent: InodeTable.rootInode, name: "full") } == ENOTEMPTY)
    }

    @Test("a removal the server refuses (the name became a directory elsewhere) is noted in failed/README; the name is asked of the server again")
    func removalRefused() async throws {
        let h = try await VFSHarness(attributeTimeout: 30, writeBack: true)
        defer { Task { await h.close() } }
        let made = try await h.client.mkdir(parent: h.vfs.inodes.rootNode, name: "d")
        _ = try await h.client.createInline(parent: made.id, name: "x", bytes: [1])
        let dir = try await h.vfs.lookup(parent: InodeTable.rootInode, name: "d").id
        _ = try await h.vfs.lookup(parent: dir, name: "x")
        // Elsewhere, unseen here (no watch): x is now a directory.
        try await h.client.unlink(parent: made.id, name: "x")
        let other = try await h.client.mkdir(parent: made.id, name: "x")
        try await h.vfs.unlink(parent: dir, name: "x")
        await h.vfs.syncStaged()
        #expect(try await h.client.lookup(parent: made.id, name: "x").id == other.id)
        let note = try String(contentsOf: h.directory.appendingPathComponent("staged/failed/README"), encoding: .utf8)
        #expect(note.contains("removal not done") && note.contains("'x'"), "\(note)")
        #expect(try await h.vfs.lookup(parent: dir, name: "x").kind == .directory)
    }

    @Test("a name taken elsewhere before the upload: the staged file is kept in failed/ with a note, the other file stays")
    func takenMeanwhile() async throws {
        let h = try await VFSHarness(attributeTimeout: 30, writeBack: true)
        defer { Task { await h.close() } }
        let (dir, dirNode) = try await MadeAtCloseTests.directory(h)
        let (attributes, opened) = try await h.vfs.create(parent: dir, name: "race", mode: 0o644, flags: O_WRONLY | O_CREAT, context: h.context)
        _ = try await h.vfs.write(attributes.id, handle: opened.handle, offset: 0, bytes: Array("mine".utf8))
        let theirs = try await h.client.createInline(parent: dirNode, name: "race", bytes: Array("theirs".utf8))
        try await h.vfs.flush(attributes.id, handle: opened.handle)
        try await h.vfs.release(attributes.id, handle: opened.handle)
        await h.vfs.syncStaged()
        #expect(try await h.client.lookup(parent: dirNode, name: "race") == theirs)
        #expect(h.vfs.unmadeCount.load(ordering: .acquiring) == 0)
        let failed = h.directory.appendingPathComponent("staged/failed")
        let kept = try FileManager.default.contentsOfDirectory(atPath: failed.path).filter { $0.hasSuffix("-race") }
        #expect(kept.count == 1)
        #expect(kept.first.flatMap { FileManager.default.contents(atPath: failed.appendingPathComponent($0).path) } == Data("mine".utf8))
        let note = try String(contentsOf: failed.appendingPathComponent("README"), encoding: .utf8)
        #expect(note.contains("'race'") && note.contains("exists"), "\(note)")
    }

    @Test("files a mount journaled and never saw made are made when the next mount starts; one whose name holds other bytes is set aside")
    func replayedAtStart() async throws {
        let h = try await VFSHarness(attributeTimeout: 30)
        defer { Task { await h.close() } }
        let root = h.vfs.inodes.rootNode
        let journalDirectory = h.directory.appendingPathComponent("left-staged").path
        // What a mount killed after three closes left; the first was made before it died.
        let earlier = try await h.client.createInline(parent: root, name: "made-before", bytes: Array("first".utf8))
        _ = try await h.client.createInline(parent: root, name: "old", bytes: Array("removed by the dead mount".utf8))
        _ = try await h.client.createInline(parent: root, name: "taken", bytes: Array("someone else's".utf8))
        do {
            let journal = try StagingJournal(directory: journalDirectory)
            _ = try journal.recover()
            for (name, text) in [("made-before", "first"), ("new", "second"), ("taken", "mine")] {
                try journal.append(.file(StagedFile(sequence: journal.nextSequence(), parent: root, name: name, mode: 0o600,
                                                    uid: 1, gid: 2, modifiedNs: 0, bytes: Array(text.utf8))))
            }
            // Removed after them: one the server has, one it never had.
            for name in ["old", "never-there"] {
                try journal.append(.removal(StagedRemoval(sequence: journal.nextSequence(), parent: root, name: name)))
            }
        }
        var logger = Logger(label: "vfs-test")
        logger.logLevel = .critical
        let next = try await NetStoreVFS.start(
            client: h.client,
            configuration: VFSConfiguration(cacheDirectory: h.directory.appendingPathComponent("cache2").path,
                                            stagingDirectory: journalDirectory),
            logger: logger)
        // Settled before start returned.
        #expect(try await h.client.lookup(parent: root, name: "made-before") == earlier)
        let new = try await h.client.lookup(parent: root, name: "new")
        #expect(new.size == 6 && new.mode & 0o7777 == 0o600)
        #expect(try await h.client.lookup(parent: root, name: "taken").size == UInt64("someone else's".utf8.count))
        #expect(await errnoOf { _ = try await h.client.lookup(parent: root, name: "old") } == ENOENT)
        let failed = try FileManager.default.contentsOfDirectory(atPath: journalDirectory + "/failed")
        #expect(failed.contains { $0.hasSuffix("-taken") } && !failed.contains { $0.hasSuffix("-made-before") }, "\(failed)")
        #expect(try journalSegments(journalDirectory) == [])
        // One mount at a time per journal.
        #expect(throws: NetStoreError.self) { _ = try StagingJournal(directory: journalDirectory) }
        await next.flushAll()
    }
}

@Suite("The write-back journal's records")
struct StagingJournalTests {
    static func file(_ sequence: UInt64, _ name: String, _ count: Int) -> StagedChange {
        .file(StagedFile(sequence: sequence, parent: 7, name: name, mode: 0o644, uid: 1, gid: 2, modifiedNs: -5, bytes: pattern(count, seed: sequence)))
    }

    @Test func recordsRoundTripAndATornOrCorruptTailIsIgnored() {
        let files = [Self.file(1, "a", 0), .removal(StagedRemoval(sequence: 2, parent: 9, name: "ü")),
                     .removal(StagedRemoval(sequence: 3, parent: 9, name: "dir", directory: 12)), Self.file(4, "é", 5000), Self.file(5, "c", 1)]
        let bytes = files.flatMap(StagedRecord.encode)
        #expect(StagedRecord.decodeAll(bytes).changes == files)
        #expect(StagedRecord.decodeAll(bytes).length == bytes.count)
        let lastStart = bytes.count - StagedRecord.encode(files[4]).count
        for cut in [lastStart + 1, lastStart + 12, bytes.count - 1] {
            let torn = StagedRecord.decodeAll(Array(bytes.prefix(cut)))
            #expect(torn.changes == Array(files.prefix(4)) && torn.length == lastStart, "cut at \(cut)")
        }
        var corrupt = bytes
        corrupt[lastStart + 20] ^= 1
        #expect(StagedRecord.decodeAll(corrupt).changes == Array(files.prefix(4)))
        // A new file's content is covered by its block id: a flipped content byte ends what is read there.
        var content = bytes
        let fourthEnd = lastStart
        content[fourthEnd - 100] ^= 1
        #expect(StagedRecord.decodeAll(content).changes == Array(files.prefix(3)))
        // A kind this build does not know ends what is read, like a corrupt record.
        var unknown = StagedRecord.encode(files[1])
        unknown[0] = 7
        #expect(StagedRecord.decodeAll(unknown).changes.isEmpty)
    }

    @Test("a new file's record as earlier versions wrote it (kind 0: no block id, the hash over the whole payload) is still read")
    func earlierFileRecordsAreRead() throws {
        let content = pattern(3000, seed: 9)
        var payload: [UInt8] = []
        func integer<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { payload.append(contentsOf: $0) } }
        integer(UInt64(4)); integer(UInt64(7)); integer(UInt16(1)); payload.append(UInt8(ascii: "x"))
        integer(UInt32(0o640)); integer(UInt32(1)); integer(UInt32(2)); integer(Int64(99))
        integer(UInt32(content.count)); payload.append(contentsOf: content)
        var record: [UInt8] = []
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: SHA256.hash(data: payload).prefix(8))
        record.append(contentsOf: payload)
        let next = StagedRecord.encode(.removal(StagedRemoval(sequence: 5, parent: 7, name: "y")))
        let decoded = StagedRecord.decodeAll(record + next)
        let expected = StagedFile(sequence: 4, parent: 7, name: "x", mode: 0o640, uid: 1, gid: 2, modifiedNs: 99, bytes: content)
        #expect(decoded.changes == [.file(expected), .removal(StagedRemoval(sequence: 5, parent: 7, name: "y"))])
        #expect(decoded.changes.first?.file?.contentID == OpenFile.blockID(of: content))
        var corrupt = record
        corrupt[record.count - 10] ^= 1
        #expect(StagedRecord.decodeAll(corrupt).changes.isEmpty)
    }

    @Test func segmentsAreRecoveredInOrderAndDeletedOnceSettled() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var written: [StagedChange] = []
        do {
            let journal = try StagingJournal(directory: directory)
            #expect(try journal.recover().isEmpty)
            // Big enough that they take three segments.
            for index in 0..<20 {
                let file = Self.file(journal.nextSequence(), "f\(index)", 1 << 20)
                try journal.append(file)
                written.append(file)
            }
        }
        #expect(try journalSegments(directory).count == 3)
        let journal = try StagingJournal(directory: directory)
        #expect(try journal.recover() == written)
        #expect(journal.nextSequence() == 21)
        journal.completed(through: 10)
        #expect(try journalSegments(directory).count == 2)
        journal.completed(through: 20)
        #expect(try journalSegments(directory).isEmpty)
    }

    @Test("a refused file whose content cannot be written to failed/ is reported as not kept, not as kept")
    func setAsideThatCannotWrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try StagingJournal(directory: directory)
        guard case .file(let refused) = Self.file(1, "a", 10) else { return }
        #expect(journal.setAside(refused, reason: "taken") == "\(directory)/failed/1-a")
        #expect(FileManager.default.contents(atPath: "\(directory)/failed/1-a") == Data(refused.bytes))
        // failed/ is not a directory that can be written to (root ignores permissions: a file in its place).
        try FileManager.default.removeItem(atPath: "\(directory)/failed")
        #expect(FileManager.default.createFile(atPath: "\(directory)/failed", contents: Data()))
        guard case .file(let second) = Self.file(2, "b", 10) else { return }
        #expect(journal.setAside(second, reason: "taken") == nil)
    }

    @Test("netstore status's summary: changes not yet on the servers, and those refused")
    func summary() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let directory = VFSConfiguration.stagingDirectory(in: cache, user: "u", cluster: "h_1", mountpoint: "/m")
        let journal = try StagingJournal(directory: directory)
        #expect(StagingJournalSummary.all(in: cache) == [StagingJournalSummary(directory: directory, pending: 0, refused: 0)])
        try journal.append(Self.file(1, "a", 10))
        try journal.append(.removal(StagedRemoval(sequence: 2, parent: 7, name: "b")))
        try journal.append(Self.file(3, "c", 10))
        guard case .file(let refused) = Self.file(4, "d", 3) else { return }
        _ = journal.setAside(refused, reason: "'d' already exists")
        _ = journal.setAside(StagedRemoval(sequence: 5, parent: 7, name: "e"), reason: "'e' is a directory")
        #expect(StagingJournalSummary.all(in: cache) == [StagingJournalSummary(directory: directory, pending: 3, refused: 2)])
        journal.completed(through: 3)
        #expect(StagingJournalSummary.read(directory).pending == 0)
    }
}
