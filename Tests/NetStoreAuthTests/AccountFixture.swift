import Foundation
import GRDB
import Logging
import NetStoreAuth
import NetStoreCore
import NetStoreStorage
import Synchronization

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let nanoseconds = Mutex<Int64>(1_700_000_000 * 1_000_000_000)

    var now: Int64 { nanoseconds.withLock { $0 } }

    func advance(seconds: Int64) {
        nanoseconds.withLock { $0 += seconds * 1_000_000_000 }
    }

    var read: @Sendable () -> Int64 { { self.now } }
}

/// A real store in a fresh temporary directory, and an account service over it
/// with cheap scrypt parameters and a manual clock.
final class AccountFixture {
    static let tokenLifetimeSeconds: Int64 = 3600

    let directory: URL
    let store: Store
    let clock = ManualClock()
    let accounts: AccountService

    init(hasher: PasswordHasher = PasswordHasher(parameters: .fastForTesting)) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("netstore-auth-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Store(directory: directory.appendingPathComponent("store"), logger: Logger(label: "test"))
        accounts = AccountService(
            store: store, tokenLifetimeSeconds: Self.tokenLifetimeSeconds, clock: clock.read, hasher: hasher)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try store.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }
}
