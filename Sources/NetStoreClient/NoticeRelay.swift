import NetStoreProtocol
import Synchronization

/// Holds the handler a connection's CHANGES frames go to; set and cleared by
/// the watch while the connection's event loop delivers.
final class NoticeRelay: Sendable {
    private let handler = Mutex<(@Sendable ([ChangeNotice]) -> Void)?>(nil)

    func set(_ handler: (@Sendable ([ChangeNotice]) -> Void)?) {
        self.handler.withLock { $0 = handler }
    }

    func deliver(_ notices: [ChangeNotice]) {
        handler.withLock { $0 }?(notices)
    }
}
