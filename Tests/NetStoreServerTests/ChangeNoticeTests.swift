import NetStoreCore
import NetStoreProtocol
import NetStoreStorage
@testable import NetStoreServer
import Testing

/// What each mutation tells watchers, the bounded queue, and who the feed tells.
@Suite struct ChangeNoticeTests {
    @Test func namespaceMutationsNameTheEntryAndItsDirectory() {
        let made: [Mutation] = [
            .mkdir(account: 2, parent: 10, name: "d", mode: 0o755, uid: 1, gid: 1, now: 0),
            .mknod(account: 2, parent: 10, name: "d", kind: .file, mode: 0o644, uid: 1, gid: 1, now: 0),
            .symlink(account: 2, parent: 10, name: "d", target: "t", uid: 1, gid: 1, now: 0),
            .unlink(account: 2, parent: 10, name: "d", now: 0),
            .rmdir(account: 2, parent: 10, name: "d", now: 0),
        ]
        for mutation in made {
            let derived = mutation.changeNotices
            #expect(derived?.account == 2, "\(mutation.name)")
            #expect(derived?.notices == [.entry(parent: 10, name: "d"), .node(10)], "\(mutation.name)")
        }
    }

    @Test func linkNamesTheNodeToo() {
        let derived = Mutation.link(account: 3, node: 7, newParent: 10, newName: "l", now: 0).changeNotices
        #expect(derived?.account == 3)
        #expect(derived?.notices == [.entry(parent: 10, name: "l"), .node(10), .node(7)])
    }

    @Test func renameNamesBothEntriesAndBothDirectories() {
        let across = Mutation.rename(account: 2, parent: 10, name: "a", newParent: 11, newName: "b", flags: [], now: 0)
        #expect(across.changeNotices?.notices == [.entry(parent: 10, name: "a"), .entry(parent: 11, name: "b"), .node(10), .node(11)])
        let within = Mutation.rename(account: 2, parent: 10, name: "a", newParent: 10, newName: "b", flags: [.exchange], now: 0)
        #expect(within.changeNotices?.notices == [.entry(parent: 10, name: "a"), .entry(parent: 10, name: "b"), .node(10)])
    }

    @Test func batchesNameEachEntryAndEachDirectoryOnce() {
        let files = Mutation.createFiles(account: 2, files: [
            NewFile(parent: 10, name: "a", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: []),
            NewFile(parent: 11, name: "b", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: []),
            NewFile(parent: 10, name: "c", mode: 0o644, uid: 1, gid: 1, size: 0, blocks: []),
        ], now: 0)
        #expect(files.changeNotices?.account == 2)
        #expect(files.changeNotices?.notices == [
            .entry(parent: 10, name: "a"), .node(10), .entry(parent: 11, name: "b"), .node(11), .entry(parent: 10, name: "c"),
        ])
        let removals = Mutation.removeEntries(account: 2, entries: [
            EntryRemoval(parent: 10, name: "a", isDirectory: false),
            EntryRemoval(parent: 11, name: "b", isDirectory: true),
            EntryRemoval(parent: 10, name: "c", isDirectory: false),
        ], now: 0)
        #expect(removals.changeNotices?.notices == files.changeNotices?.notices)
    }

    @Test func contentAndAttributeChangesNameTheNode() {
        let setattr = Mutation.setattr(account: 2, node: 9, changes: SetAttributes(size: 0), now: 0)
        #expect(setattr.changeNotices?.notices == [.node(9)])
        let commit = Mutation.commit(account: 2, node: 9, baseVersion: 1, size: 0, blocks: [], now: 0)
        #expect(commit.changeNotices?.notices == [.node(9)])
    }

    @Test func accountMutationsTellNothing() {
        let accounts: [Mutation] = [
            .addUser(name: "u", role: .user, passwordHash: "h", now: 0),
            .setPassword(name: "u", passwordHash: "h", now: 0),
            .removeUser(name: "u"),
            .createSession(user: 1, checkedHash: "h", rehash: nil, tokenHash: [1], now: 0, expiresNs: 1, maxSessions: 4),
            .deleteSession(tokenHash: [1]),
            .pruneSessions(now: 0),
        ]
        for mutation in accounts { #expect(mutation.changeNotices == nil, "\(mutation.name)") }
    }

    @Test func queueKeepsEachNoticeOnceAndTakesAFrameAtATime() {
        var queue = NoticeQueue(limit: 10)
        queue.add([.node(1), .node(2), .node(1), .entry(parent: 1, name: "a"), .entry(parent: 1, name: "a")])
        #expect(queue.pending == [.node(1), .node(2), .entry(parent: 1, name: "a")])
        #expect(queue.take(2) == [.node(1), .node(2)])
        queue.add(.node(1))  // taken already, so it is news again
        #expect(queue.take() == [.entry(parent: 1, name: "a"), .node(1)])
        #expect(queue.isEmpty)
    }

    @Test func queuePastItsLimitBecomesOneReset() {
        var queue = NoticeQueue(limit: 3)
        queue.add((1...3).map { ChangeNotice.node($0) })
        #expect(queue.pending.count == 3)
        queue.add(.node(4))
        #expect(queue.pending == [.reset])
        queue.add([.node(5), .entry(parent: 1, name: "x")])
        #expect(queue.pending == [.reset], "a pending reset covers what follows")
        queue.add(.ended)
        #expect(queue.pending == [.reset, .ended])
        #expect(queue.take() == [.reset, .ended])
        queue.add(.node(6))
        #expect(queue.pending == [.node(6)])
    }

    @Test func feedTellsTheAccountsWatchersButNotTheOrigin() async {
        let feed = ChangeFeed()
        let mine = NoticeOutbox(), sibling = NoticeOutbox(), stranger = NoticeOutbox()
        feed.watch(connection: 1, account: 2, outbox: mine)
        feed.watch(connection: 2, account: 2, outbox: sibling)
        feed.watch(connection: 3, account: 5, outbox: stranger)
        feed.publish([
            ChangeFeed.Change(account: 2, origin: 1, notices: [.node(10)]),
            ChangeFeed.Change(account: 2, origin: nil, notices: [.node(11)]),
            ChangeFeed.Change(account: 2, origin: 2, notices: [.node(12)]),
        ])
        #expect(await mine.next() == [.node(11), .node(12)])
        #expect(await sibling.next() == [.node(10), .node(11)])
        #expect(stranger.pendingCount == 0)
        feed.unwatch(connection: 2)
        feed.publish([ChangeFeed.Change(account: 2, origin: nil, notices: [.node(13)])])
        #expect(sibling.pendingCount == 0)
        feed.endAll()
        #expect(await mine.next() == [.reset, .ended], "the reset covers what was pending")
        #expect(feed.isEmpty)
    }

    @Test func aClosedOutboxEndsItsReader() async {
        let outbox = NoticeOutbox()
        async let batch = outbox.next()
        outbox.close()
        #expect(await batch == nil)
        outbox.add([.node(1)])
        #expect(await outbox.next() == nil)
    }
}
