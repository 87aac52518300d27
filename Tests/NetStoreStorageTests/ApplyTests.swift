import Foundation
import Logging
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Apply and digest")
struct ApplyTests {
    /// Two stores in fresh directories, removed afterwards.
    static func withTwoStores(_ body: (Store, Store) throws -> Void) throws {
        let directories = [StoreFixture.temporaryDirectory(), StoreFixture.temporaryDirectory()]
        defer { for d in directories { try? FileManager.default.removeItem(at: d) } }
        try body(try Store(directory: directories[0], logger: Logger(label: "test")),
                 try Store(directory: directories[1], logger: Logger(label: "test")))
    }

    static let hash = "scrypt$16$8$1$c2FsdA$aGFzaA"
    static let token = [UInt8](repeating: 9, count: 32)

    /// A log that creates a user and a tree, writes a file, and includes failures.
    static func log(block: BlockID) -> [Mutation] {
        [
            .addUser(name: "alice", role: .user, passwordHash: hash, now: 100),
            .mkdir(account: 1, parent: 1, name: "docs", mode: 0o755, uid: 1, gid: 1, now: 101),
            .mkdir(account: 1, parent: 1, name: "docs", mode: 0o755, uid: 1, gid: 1, now: 102),   // EEXIST
            .mknod(account: 1, parent: 2, name: "a.txt", kind: .file, mode: 0o644, uid: 1, gid: 1, now: 103),
            .commit(account: 1, node: 3, baseVersion: 0, size: 5, blocks: [block], now: 104),
            .commit(account: 1, node: 3, baseVersion: 0, size: 5, blocks: [block], now: 105),     // version conflict
            .link(account: 1, node: 3, newParent: 1, newName: "same", now: 106),
            .rmdir(account: 1, parent: 1, name: "docs", now: 107),                              // ENOTEMPTY
            .rename(account: 1, parent: 2, name: "a.txt", newParent: 1, newName: "b.txt", flags: [], now: 108),
            .setattr(account: 1, node: 3, changes: SetAttributes(mode: 0o600, mtime: .now), now: 109),
            .symlink(account: 1, parent: 1, name: "ln", target: "b.txt", uid: 1, gid: 1, now: 110),
            .createSession(user: 1, checkedHash: hash, rehash: nil, tokenHash: token, now: 111, expiresNs: 999, maxSessions: 10),
            .createSession(user: 1, checkedHash: "stale", rehash: nil, tokenHash: token, now: 112, expiresNs: 999, maxSessions: 10),
            .unlink(account: 1, parent: 1, name: "same", now: 113),
            .createFile(account: 1, parent: 1, name: "c.txt", mode: 0o640, uid: 1, gid: 1, size: 5, blocks: [block], now: 114),
            .createFile(account: 1, parent: 1, name: "c.txt", mode: 0o640, uid: 1, gid: 1, size: 0, blocks: [], now: 115),  // EEXIST
            .createFile(account: 1, parent: 1, name: "d.txt", mode: 0o640, uid: 1, gid: 1, size: 5, blocks: [missing], now: 116),
        ]
    }

    /// Stored nowhere: a commit naming it is refused.
    static let missing = BlockID(bytes: [UInt8](repeating: 0xCD, count: 32))!
    static let failing: Set<Int> = [2, 5, 7, 12, 15, 16]

    @Test func theSameLogGivesTheSameStateAndDigest() throws {
        try Self.withTwoStores { first, second in
            let bytes: [UInt8] = Array("hello".utf8)
            let block = BlockStore.id(of: bytes)
            // Stored at different times, plus an unreferenced upload on one server only:
            // neither is replicated state.
            try bytes.withUnsafeBytes { try first.putBlock(block, bytes: $0, now: 1) }
            try bytes.withUnsafeBytes { try second.putBlock(block, bytes: $0, now: 50) }
            let stray: [UInt8] = Array("stray".utf8)
            try stray.withUnsafeBytes { try second.putBlock(BlockStore.id(of: stray), bytes: $0, now: 2) }

            for (offset, mutation) in Self.log(block: block).enumerated() {
                // Through the codec, as a backup receives it.
                let decoded = try MutationCodec.decode(MutationCodec.encode(mutation))
                let index = UInt64(offset + 1)
                let a = try first.apply(mutation, index: index, term: 1)
                let b = try second.apply(decoded, index: index, term: 1)
                #expect(a == b, "entry \(index)")
                if case .failure = a { #expect(Self.failing.contains(offset), "entry \(index): \(a)") }
                else { #expect(!Self.failing.contains(offset), "entry \(index) should fail") }
            }
            let (indexA, digestA) = try first.digest()
            let (indexB, digestB) = try second.digest()
            #expect(indexA == 17 && indexB == 17)
            #expect(digestA == digestB)

            // One more change on one side shows in the digest.
            _ = try first.apply(.setattr(account: 1, node: 3, changes: SetAttributes(uid: 7), now: 200), index: 18, term: 2).get()
            #expect(try first.digest().sha256 != digestB)
        }
    }

    @Test func aFailedMutationChangesNothingButIsRecordedAsApplied() throws {
        try StoreFixture.with { f in
            let before = try f.store.digest()
            let result = try f.store.apply(
                .rmdir(account: StoreFixture.a, parent: f.rootA, name: "absent", now: 5), index: 1, term: 1)
            #expect(throws: NetStoreError(.noEntry, "'absent' does not exist in directory \(f.rootA)")) { try result.get() }
            let after = try f.store.digest()
            #expect(after.appliedIndex == 1)
            #expect(after.sha256 == before.sha256)
        }
    }

    @Test func aFileIsCreatedWithItsContentOrNotAtAll() throws {
        try StoreFixture.with { f in
            let bytes: [UInt8] = Array("small file".utf8)
            let block = BlockStore.id(of: bytes)
            try bytes.withUnsafeBytes { try f.store.putBlock(block, bytes: $0, now: 1) }
            let made = try f.store.apply(.createFile(account: StoreFixture.a, parent: f.rootA, name: "f", mode: 0o640, uid: 5, gid: 6,
                                                     size: UInt64(bytes.count), blocks: [block], now: 7), index: 1, term: 1).get().attributes
            let looked = try f.store.lookup(account: StoreFixture.a, parent: f.rootA, name: "f")
            #expect(made == looked)
            #expect(looked.kind == .file && looked.mode == 0o640 && looked.uid == 5 && looked.gid == 6)
            #expect(looked.size == UInt64(bytes.count) && looked.mtimeNs == 7)
            #expect(try f.store.content(account: StoreFixture.a, node: looked.id).blocks == [block])

            // A block the server lacks: refused, and no empty file is left behind.
            let before = try f.store.digest().sha256
            let refused = try f.store.apply(.createFile(account: StoreFixture.a, parent: f.rootA, name: "g", mode: 0o644, uid: 0, gid: 0,
                                                        size: 5, blocks: [Self.missing], now: 8), index: 2, term: 1)
            #expect(throws: NetStoreError.self) { try refused.get() }
            #expect(throws: NetStoreError.self) { try f.store.lookup(account: StoreFixture.a, parent: f.rootA, name: "g") }
            #expect(try f.store.digest().sha256 == before)
            // Another account's directory is not a parent.
            let foreign = try f.store.apply(.createFile(account: StoreFixture.b, parent: f.rootA, name: "h", mode: 0o644, uid: 0, gid: 0,
                                                        size: 0, blocks: [], now: 9), index: 3, term: 1)
            #expect(throws: NetStoreError.self) { try foreign.get() }
        }
    }

    @Test func aRefusedRenameChangesNothing() throws {
        try StoreFixture.with { f in
            // Replacing a non-empty directory is refused once both sides were looked up.
            try f.store.mkdir(account: StoreFixture.a, parent: f.rootA, name: "src", mode: 0o755, uid: 0, gid: 0, now: 1)
            let target = try f.store.mkdir(account: StoreFixture.a, parent: f.rootA, name: "dst", mode: 0o755, uid: 0, gid: 0, now: 1)
            try f.store.mkdir(account: StoreFixture.a, parent: target.id, name: "inner", mode: 0o755, uid: 0, gid: 0, now: 1)
            let before = try f.store.digest().sha256
            let result = try f.store.apply(.rename(account: StoreFixture.a, parent: f.rootA, name: "src", newParent: f.rootA,
                                                   newName: "dst", flags: [], now: 9), index: 7, term: 3)
            #expect(throws: NetStoreError.self) { try result.get() }
            #expect(try f.store.digest().sha256 == before)
            #expect(try f.store.digest().appliedIndex == 7)
        }
    }

    @Test func aBatchGivesTheSameResultsAndStateAsOneByOne() throws {
        try Self.withTwoStores { single, batched in
            let bytes: [UInt8] = Array("hello".utf8)
            let block = BlockStore.id(of: bytes)
            for store in [single, batched] { try bytes.withUnsafeBytes { try store.putBlock(block, bytes: $0, now: 1) } }
            let log = Self.log(block: block)
            var expected: [Result<MutationResult, NetStoreError>] = []
            for (offset, mutation) in log.enumerated() {
                expected.append(try single.apply(mutation, index: UInt64(offset + 1), term: 1))
            }
            // Two batches; the second begins with an entry that changes nothing (a term start).
            let cut = 6
            var results = try batched.apply(batch: log[..<cut].enumerated().map {
                BatchEntry(index: UInt64($0.offset + 1), term: 1, mutation: $0.element)
            })
            #expect(try batched.digest().appliedIndex == UInt64(cut))
            try single.recordApplied(index: UInt64(log.count + 1), term: 2)
            let second = [BatchEntry(index: UInt64(log.count + 1), term: 2, mutation: nil)]
            let rest = try batched.apply(batch: log[cut...].enumerated().map {
                BatchEntry(index: UInt64(cut + $0.offset + 1), term: 1, mutation: $0.element)
            } + second)
            #expect(rest.last == .success(.none))
            results += rest.dropLast()
            #expect(results == expected)
            #expect(try batched.digest() == single.digest())
            #expect(try batched.digest().appliedIndex == UInt64(log.count + 1))
            #expect(try batched.apply(batch: []).isEmpty)
        }
    }

    @Test func aBatchOfFilesMakesEachOrSaysWhyNot() throws {
        try Self.withTwoStores { first, second in
            let bytes: [UInt8] = Array("batched".utf8)
            let block = BlockStore.id(of: bytes)
            for store in [first, second] {
                try bytes.withUnsafeBytes { try store.putBlock(block, bytes: $0, now: 1) }
                _ = try store.apply(.addUser(name: "alice", role: .user, passwordHash: Self.hash, now: 1), index: 1, term: 1).get()
            }
            let batch = Mutation.createFiles(account: 1, files: [
                NewFile(parent: 1, name: "one", mode: 0o640, uid: 1, gid: 1, size: 7, blocks: [block]),
                NewFile(parent: 1, name: "one", mode: 0o640, uid: 1, gid: 1, size: 0, blocks: []),         // EEXIST
                NewFile(parent: 1, name: "two", mode: 0o600, uid: 1, gid: 1, size: 5, blocks: [Self.missing]),
                NewFile(parent: 1, name: "three", mode: 0o644, uid: 2, gid: 3, size: 0, blocks: []),
            ], now: 9)
            let result = try first.apply(batch, index: 2, term: 1).get()
            guard case .outcomes(let outcomes) = result else { Issue.record("not .outcomes: \(result)"); return }
            #expect(outcomes.count == 4)
            #expect(try outcomes[0].get() == first.lookup(account: 1, parent: 1, name: "one"))
            #expect(try outcomes[0].get().size == 7 && first.content(account: 1, node: outcomes[0].get().id).blocks == [block])
            #expect((try? outcomes[1].get()) == nil)
            if case .failure(let taken) = outcomes[1] { #expect(taken.code == .exists) }
            if case .failure(let missing) = outcomes[2] { #expect(missing.code != .exists) } else { Issue.record("a missing block was accepted") }
            #expect(throws: NetStoreError.self) { try first.lookup(account: 1, parent: 1, name: "two") }
            #expect(try outcomes[3].get().mode == 0o644 && outcomes[3].get().uid == 2)

            // A backup applying the decoded entry gets the same outcomes and state.
            let replayed = try second.apply(MutationCodec.decode(MutationCodec.encode(batch)), index: 2, term: 1).get()
            #expect(replayed == result)
            #expect(try first.digest() == second.digest())
        }
    }

    @Test("a batch of removals removes each in order (a directory after what was in it) or says why not, the same on every store")
    func aBatchOfRemovalsRemovesEachOrSaysWhyNot() throws {
        try Self.withTwoStores { first, second in
            for store in [first, second] {
                _ = try store.apply(.addUser(name: "alice", role: .user, passwordHash: Self.hash, now: 1), index: 1, term: 1).get()
            }
            let setup: [Mutation] = [
                .mkdir(account: 1, parent: 1, name: "d", mode: 0o755, uid: 1, gid: 1, now: 2),
                .createFiles(account: 1, files: [
                    NewFile(parent: 1, name: "top", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: []),
                    NewFile(parent: 1, name: "kept", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: []),
                ], now: 2),
            ]
            for (offset, mutation) in setup.enumerated() {
                for store in [first, second] { _ = try store.apply(mutation, index: UInt64(offset + 2), term: 1).get() }
            }
            let d = try first.lookup(account: 1, parent: 1, name: "d").id
            let inner = Mutation.createFiles(account: 1, files: [NewFile(parent: d, name: "x", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: [])], now: 3)
            for store in [first, second] { _ = try store.apply(inner, index: 4, term: 1).get() }

            let batch = Mutation.removeEntries(account: 1, entries: [
                EntryRemoval(parent: 1, name: "d", isDirectory: true),        // ENOTEMPTY: x is still in it
                EntryRemoval(parent: d, name: "x", isDirectory: false),
                EntryRemoval(parent: 1, name: "d", isDirectory: true),        // empty now
                EntryRemoval(parent: 1, name: "gone", isDirectory: false),    // ENOENT
                EntryRemoval(parent: 1, name: "kept", isDirectory: true),     // not a directory
                EntryRemoval(parent: 1, name: "top", isDirectory: false),
            ], now: 5)
            let result = try first.apply(batch, index: 5, term: 1).get()
            guard case .outcomes(let outcomes) = result else { Issue.record("not .outcomes: \(result)"); return }
            let codes = outcomes.map { outcome -> ErrorCode? in if case .failure(let error) = outcome { error.code } else { nil } }
            #expect(codes == [.notEmpty, nil, nil, .noEntry, .notDirectory, nil], "\(outcomes)")
            #expect(try first.readdir(account: 1, directory: 1, cookie: 0, limit: 100).entries.map(\.name) == ["kept"])

            let replayed = try second.apply(MutationCodec.decode(MutationCodec.encode(batch)), index: 5, term: 1).get()
            #expect(replayed == result)
            #expect(try first.digest() == second.digest())
        }
    }

    @Test("a file made with its content (createFile) leaves the same rows and attributes as mknod then commit, and what it refuses leaves nothing behind")
    func createFileIsMknodThenCommit() throws {
        try Self.withTwoStores { first, second in
            let bytes: [UInt8] = Array("content".utf8)
            let block = BlockStore.id(of: bytes)
            for store in [first, second] {
                try bytes.withUnsafeBytes { try store.putBlock(block, bytes: $0, now: 1) }
                try store.apply(.addUser(name: "alice", role: .user, passwordHash: Self.hash, now: 1))
                try store.apply(.mkdir(account: 1, parent: 1, name: "d", mode: 0o755, uid: 1, gid: 1, now: 2))
                try store.apply(.mknod(account: 1, parent: 1, name: "taken", kind: .file, mode: 0o644, uid: 1, gid: 1, rdev: 0, now: 2))
            }
            let files: [(name: String, size: UInt64, blocks: [BlockID])] = [
                ("full", 7, [block]), ("empty", 0, []), ("hole", 100, []), ("twice", 2 << 20, [block, block]),
            ]
            for file in files {
                let made = try first.apply(.mknod(account: 1, parent: 1, name: file.name, kind: .file, mode: 0o100640, uid: 3, gid: 4, rdev: 0, now: 5))
                let committed = try first.apply(.commit(account: 1, node: made.attributes!.id, baseVersion: 0, size: file.size, blocks: file.blocks, now: 5))
                let created = try second.apply(.createFile(account: 1, parent: 1, name: file.name, mode: 0o100640, uid: 3, gid: 4,
                                                           size: file.size, blocks: file.blocks, now: 5))
                #expect(created == committed, "\(file.name)")
            }
            #expect(try first.digest().sha256 == second.digest().sha256)

            // Refused in the order mknod then commit would refuse: name, parent, taken, limits, blocks.
            let refusals: [(Mutation, ErrorCode)] = [
                (.createFile(account: 1, parent: 1, name: "a/b", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: [], now: 6), .invalid),
                (.createFile(account: 1, parent: 999, name: "x", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: [], now: 6), .noEntry),
                (.createFile(account: 1, parent: 1, name: "taken", mode: 0o644, uid: 1, gid: 1, size: 1 << 60, blocks: [Self.missing], now: 6), .exists),
                (.createFile(account: 1, parent: 1, name: "x", mode: 0o644, uid: 1, gid: 1, size: Limits.maxFileSize + 1, blocks: [], now: 6), .fileTooBig),
                (.createFile(account: 1, parent: 1, name: "x", mode: 0o644, uid: 1, gid: 1, size: 1, blocks: [block, block], now: 6), .invalid),
                (.createFile(account: 1, parent: 1, name: "x", mode: 0o644, uid: 1, gid: 1, size: 7, blocks: [Self.missing], now: 6), .missingBlocks),
            ]
            for (mutation, code) in refusals {
                let error = expectError(code) { try second.apply(mutation) }
                #expect(error != nil, "\(mutation)")
            }
            // Nothing refused was left behind.
            #expect(try first.digest().sha256 == second.digest().sha256)
        }
    }
}
