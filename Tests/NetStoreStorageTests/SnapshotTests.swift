import Foundation
import Logging
import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Snapshots and log compaction")
struct SnapshotTests {
    /// Applies `ApplyTests.log` (a user, a tree, a file, sessions, failures) as entries 1... of term 1.
    static func applyLog(_ store: Store, block: BlockID, from first: Int = 0) throws {
        let log = ApplyTests.log(block: block)
        for (offset, mutation) in log.enumerated() where offset >= first {
            _ = try store.apply(mutation, index: UInt64(offset + 1), term: 1)
        }
    }

    static func putHello(_ store: Store) throws -> BlockID {
        let bytes: [UInt8] = Array("hello".utf8)
        let block = BlockStore.id(of: bytes)
        try bytes.withUnsafeBytes { try store.putBlock(block, bytes: $0, now: 1) }
        return block
    }

    static func withSnapshotFile(_ body: (URL) throws -> Void) throws {
        let directory = StoreFixture.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory.appendingPathComponent("body.snapshot"))
    }

    @Test func aSnapshotInstalledIntoAFreshStoreGivesTheSameDigestAndTheSameFuture() throws {
        try ApplyTests.withTwoStores { primary, fresh in
            let block = try Self.putHello(primary)
            let log = ApplyTests.log(block: block)
            // Everything but the last entry, so the two stores can apply that one after.
            for (offset, mutation) in log.dropLast().enumerated() {
                _ = try primary.apply(mutation, index: UInt64(offset + 1), term: 1)
            }
            try Self.withSnapshotFile { url in
                let snapshot = try primary.openSnapshot()
                let written = try snapshot.write(to: url)
                snapshot.close()
                #expect(written.appliedIndex == UInt64(log.count - 1) && written.appliedTerm == 1)
                #expect(written.blocks == [block])
                #expect(try Store.inspectSnapshot(at: url) == written)

                // The block must be there first; a failed install changes nothing.
                let before = try fresh.digest()
                expectError(.missingBlocks) { try fresh.installSnapshot(at: url, now: 7) }
                #expect(try fresh.digest() == before)
                _ = try Self.putHello(fresh)
                let position = try fresh.installSnapshot(at: url, now: 7)
                #expect(position.index == UInt64(log.count - 1) && position.term == 1)
            }
            #expect(try fresh.digest() == primary.digest())
            let state = try fresh.loadReplicationState()
            #expect(state.logStartIndex == UInt64(log.count - 1) && state.logStartTerm == 1 && state.entries.isEmpty)
            #expect(state.appliedIndex == UInt64(log.count - 1))

            // Ids come from the copied sequences: the next entry gives equal states.
            let next = UInt64(log.count)
            let mkdir = Mutation.mkdir(account: 1, parent: 1, name: "after", mode: 0o755, uid: 1, gid: 1, now: 200)
            for mutation in [log.last!, mkdir] {
                let a = try primary.apply(mutation, index: next, term: 1)
                let b = try fresh.apply(mutation, index: next, term: 1)
                #expect(a == b)
            }
            #expect(try fresh.digest() == primary.digest())
        }
    }

    @Test func aSnapshotIsTheStateWhenItWasOpenedWhateverIsAppliedMeanwhile() throws {
        try ApplyTests.withTwoStores { primary, fresh in
            let block = try Self.putHello(primary)
            _ = try Self.putHello(fresh)
            let log = ApplyTests.log(block: block)
            for (offset, mutation) in log.prefix(5).enumerated() {
                _ = try primary.apply(mutation, index: UInt64(offset + 1), term: 1)
            }
            let atFive = try primary.digest()
            let snapshot = try primary.openSnapshot()
            for (offset, mutation) in log.enumerated().dropFirst(5) {
                _ = try primary.apply(mutation, index: UInt64(offset + 1), term: 1)
            }
            try Self.withSnapshotFile { url in
                let written = try snapshot.write(to: url)
                snapshot.close()
                #expect(written.appliedIndex == 5)
                try fresh.installSnapshot(at: url, now: 7)
            }
            #expect(try fresh.digest() == atFive)
            #expect(try primary.digest() != atFive)
        }
    }

    @Test func installReplacesOtherStateKeepsTermAndVoteAndKeepsTheLogOnlyIfItHoldsThePosition() throws {
        try ApplyTests.withTwoStores { primary, backup in
            let block = try Self.putHello(primary)
            _ = try Self.putHello(backup)
            for (offset, mutation) in ApplyTests.log(block: block).prefix(6).enumerated() {
                _ = try primary.apply(mutation, index: UInt64(offset + 1), term: 1)
            }
            // The backup holds other state, a log whose entry 6 is of term 1 (as the
            // snapshot's position) and entries after it, and its own term and vote.
            _ = try backup.apply(.addUser(name: "zoe", role: .admin, passwordHash: ApplyTests.hash, now: 1), index: 1, term: 1)
            try backup.writeLog(truncatingFrom: nil, entries: (1...8).map { StoredLogEntry(index: $0, term: 1, payload: [1]) })
            try backup.saveHardState(term: 3, votedFor: 2)
            try Self.withSnapshotFile { url in
                let snapshot = try primary.openSnapshot()
                _ = try snapshot.write(to: url)
                snapshot.close()
                try backup.installSnapshot(at: url, now: 7)
                #expect(try backup.digest() == primary.digest())
                var state = try backup.loadReplicationState()
                #expect(state.entries.map(\.index) == [7, 8])
                #expect(state.term == 3 && state.votedFor == 2)

                // A log that disagrees at the position is dropped whole.
                try backup.writeLog(truncatingFrom: 1, entries: (1...9).map { StoredLogEntry(index: $0, term: 2, payload: [2]) })
                try backup.installSnapshot(at: url, now: 8)
                state = try backup.loadReplicationState()
                #expect(state.entries.isEmpty && state.logStartIndex == 6 && state.logStartTerm == 1)
            }
        }
    }

    @Test func malformedBodiesAreRefusedAndChangeNothing() throws {
        try ApplyTests.withTwoStores { primary, backup in
            let block = try Self.putHello(primary)
            _ = try Self.putHello(backup)
            try Self.applyLog(primary, block: block)
            _ = try backup.apply(.addUser(name: "zoe", role: .admin, passwordHash: ApplyTests.hash, now: 1), index: 1, term: 1)
            let before = try backup.digest()
            try Self.withSnapshotFile { url in
                let snapshot = try primary.openSnapshot()
                _ = try snapshot.write(to: url)
                snapshot.close()
                let body = try Data(contentsOf: url)
                var variants: [Data] = stride(from: 0, to: body.count, by: max(1, body.count / 40)).map { body.prefix($0) }
                variants.append(body + Data([0]))
                var wrongVersion = body
                wrongVersion[0] = 9
                variants.append(wrongVersion)
                var renamed = body
                let nodes = Data("nodes".utf8)
                let at = renamed.range(of: nodes)!
                renamed.replaceSubrange(at, with: Data("nodex".utf8))
                variants.append(renamed)
                for variant in variants {
                    try variant.write(to: url)
                    expectError(.protocolError) { _ = try Store.inspectSnapshot(at: url) }
                    expectError(.protocolError) { try backup.installSnapshot(at: url, now: 7) }
                }
            }
            #expect(try backup.digest() == before)
        }
    }

    @Test func compactionDropsTheLogUpToAnAppliedIndex() throws {
        try StoreFixture.with { f in
            try f.store.writeLog(truncatingFrom: nil, entries: (1...5).map { StoredLogEntry(index: $0, term: $0 < 4 ? 1 : 2, payload: [UInt8($0)]) })
            try f.store.recordApplied(index: 4, term: 2)
            #expect(try f.store.compactLog(through: 3) == 1)
            var state = try f.store.loadReplicationState()
            #expect(state.logStartIndex == 3 && state.logStartTerm == 1 && state.entries.map(\.index) == [4, 5])
            try f.store.compactLog(through: 4)
            state = try f.store.loadReplicationState()
            #expect(state.logStartIndex == 4 && state.logStartTerm == 2 && state.entries.map(\.index) == [5])
        }
    }

    @Test func aStoreThatPredatesTheLogHasItsStateAsTheLogStart() throws {
        // The fixture makes its roots directly, as a store from before the log did.
        try StoreFixture.with { f in
            #expect(try f.store.adoptPreLogState())
            let state = try f.store.loadReplicationState()
            #expect(state.logStartIndex == 1 && state.logStartTerm == 0 && state.appliedIndex == 1)
            #expect(try !f.store.adoptPreLogState())
        }
        try ApplyTests.withTwoStores { empty, logged in
            #expect(try !empty.adoptPreLogState())
            _ = try logged.apply(.addUser(name: "zoe", role: .admin, passwordHash: ApplyTests.hash, now: 1), index: 1, term: 1)
            #expect(try !logged.adoptPreLogState())
        }
    }
}
