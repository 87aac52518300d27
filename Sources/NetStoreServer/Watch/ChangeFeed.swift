import NetStoreCore
import NetStoreProtocol
import Synchronization

/// The connections watching for changes (WATCH), by account, and the hand-off
/// of each applied mutation's notices to them. Every watcher of the
/// mutation's account gets them except the connection whose request made the
/// change: that client knows its own changes, and dropping its caches for
/// them would only cost it lookups.
public final class ChangeFeed: Sendable {
    /// Notices one connection may have waiting before they become one reset.
    public static let defaultPendingLimit = 4096

    /// One applied mutation's notices.
    public struct Change: Sendable {
        public var account: AccountID
        /// The connection whose request made it; nil when none did (or not known).
        public var origin: UInt64?
        public var notices: [ChangeNotice]

        public init(account: AccountID, origin: UInt64?, notices: [ChangeNotice]) {
            self.account = account
            self.origin = origin
            self.notices = notices
        }
    }

    private struct Watcher {
        var account: AccountID
        var outbox: NoticeOutbox
    }

    private let watchers = Mutex<[UInt64: Watcher]>([:])

    public init() {}

    /// True when nobody watches: the engine then derives no notices at all.
    public var isEmpty: Bool { watchers.withLock { $0.isEmpty } }

    /// Connection `connection` of `account` is told of changes from now on (again: no change).
    public func watch(connection: UInt64, account: AccountID, outbox: NoticeOutbox) {
        watchers.withLock { $0[connection] = Watcher(account: account, outbox: outbox) }
    }

    public func unwatch(connection: UInt64) {
        _ = watchers.withLock { $0.removeValue(forKey: connection) }
    }

    /// Hands each change's notices to the watchers of its account, its origin excepted.
    public func publish(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        let targets = watchers.withLock { Array($0) }
        guard !targets.isEmpty else { return }
        for (connection, watcher) in targets {
            var notices: [ChangeNotice] = []
            for change in changes where change.account == watcher.account && change.origin != connection {
                notices += change.notices
            }
            if !notices.isEmpty { watcher.outbox.add(notices) }
        }
    }

    /// This server stopped being primary: every watcher is told its watch has
    /// ended (changes may come from another server now) and is dropped.
    public func endAll() {
        let ended = watchers.withLock { watchers in
            defer { watchers.removeAll() }
            return Array(watchers.values)
        }
        for watcher in ended { watcher.outbox.add([.reset, .ended]) }
    }
}
