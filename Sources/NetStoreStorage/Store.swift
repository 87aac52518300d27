import Foundation
import GRDB
import Logging
import NetStoreCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The store: the SQLite namespace plus the block store, under one directory.
///
/// Every method that changes something takes `now` (nanoseconds since the epoch)
/// from the caller, so that the same calls give the same state on every server.
/// All methods check that the nodes they name belong to `account`; a node of
/// another account is reported as `.noEntry`, as if it did not exist.
///
/// Methods are synchronous and may be called from any thread: GRDB's pool
/// serialises writers and gives each reader a consistent snapshot (WAL).
public final class Store: Sendable {
    public let database: DatabasePool
    public let blocks: BlockStore
    public let directory: URL
    let logger: Logger
    private let lock: DirectoryLock
    /// Orders block-file removal by the garbage collector against writers that
    /// re-record a block, so a recorded block always has its file (see `putBlock`).
    let blockFiles = Mutex<Void>(())
    /// Raised after every committed change of users or sessions (and a snapshot
    /// install), so that a check of a token made before it is known to be stale.
    public let accountsGeneration = Atomic<UInt64>(0)

    /// Opens (creating if needed) `directory/metadata.sqlite` and `directory/blocks/`.
    public init(directory: URL, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw NetStoreError(.io, "cannot create the data directory \(directory.path): \(error.localizedDescription)")
        }
        // Two servers on one directory would clear each other's temporary files.
        lock = try DirectoryLock(path: directory.appendingPathComponent("lock").path)
        blocks = try BlockStore(directory: directory.appendingPathComponent("blocks"))

        var configuration = Configuration()
        configuration.label = "netstore"
        configuration.foreignKeysEnabled = true
        // A lock held for a moment by another connection of the pool (a snapshot's
        // reader, a checkpoint) is waited for rather than failing a client's change.
        configuration.busyMode = .timeout(10)
        let path = directory.appendingPathComponent("metadata.sqlite").path
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            // An acknowledged change must survive power loss: fsync the WAL on every
            // commit. Set after the pool's own WAL setup, which chooses NORMAL.
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // A batch applies each change in a savepoint of its own, and SQLite
                // keeps the pages a savepoint may restore in a statement journal:
                // past 64 KiB a temporary file, written page by page (more bytes
                // than the WAL itself in a batch of new files). In memory it costs
                // no system call; it holds only the pages of the savepoint open.
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
            }
            try Schema.migrator.migrate(database)
        } catch let error as DatabaseError {
            throw Self.storeError(error, "open the metadata database \(path)")
        }
        logger.info("store opened", metadata: ["directory": "\(directory.path)"])
    }

    // MARK: transactions

    /// A read in one consistent snapshot; database failures become `NetStoreError`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch let error as DatabaseError {
            throw Self.storeError(error, "read the metadata database")
        }
    }

    /// One transaction: all of `body`'s changes, or none if it throws.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let error as DatabaseError {
            throw Self.storeError(error, "update the metadata database")
        }
    }

    /// One transaction committed without its own fsync (synchronous=NORMAL, WAL):
    /// for changes a crash may lose because they are redone from durable data, such
    /// as applying log entries (the log holds them durably, and a restart applies
    /// again what lies after the applied index). The WAL keeps commits in order, so
    /// the next durable transaction makes this one durable too.
    func writeWithoutSync<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.writeWithoutTransaction { db in
                // Prepared once: this runs for every change applied.
                try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute()
                defer { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw Self.storeError(error, "update the metadata database")
        }
    }

    static func storeError(_ error: DatabaseError, _ what: String) -> NetStoreError {
        switch error.resultCode {
        case .SQLITE_FULL:
            return NetStoreError(.noSpace, "no space left to \(what): free space on the data disk and retry")
        case .SQLITE_READONLY:
            return NetStoreError(.readOnly, "cannot \(what): it is read-only")
        default:
            return NetStoreError(.io, "cannot \(what): \(error.message ?? "\(error.resultCode)")")
        }
    }

    // MARK: status

    public func statfs(account: AccountID) throws -> FileSystemStats {
        var info = statvfs()
        if statvfs(directory.path, &info) != 0 {
            throw FileIO.error(errno, "read the capacity of \(directory.path)")
        }
        let unit = UInt64(info.f_frsize)
        return FileSystemStats(
            blockSize: UInt32(clamping: info.f_bsize),
            totalBytes: UInt64(info.f_blocks) * unit,
            freeBytes: UInt64(info.f_bfree) * unit,
            availableBytes: UInt64(info.f_bavail) * unit,
            totalFiles: UInt64(info.f_files),
            freeFiles: UInt64(info.f_ffree),
            maxNameLength: UInt32(Limits.maxNameLength))
    }

    public func counts() throws -> (nodes: UInt64, users: UInt64, blocks: UInt64, blockBytes: UInt64) {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM nodes), (SELECT COUNT(*) FROM users),
                       (SELECT COUNT(*) FROM blocks), (SELECT COALESCE(SUM(size), 0) FROM blocks)
                """)!
            return (UInt64(row[0] as Int64), UInt64(row[1] as Int64), UInt64(row[2] as Int64), UInt64(row[3] as Int64))
        }
    }
}

/// An exclusive advisory lock on a file, held for the life of the object.
final class DirectoryLock: Sendable {
    private let fd: Int32

    init(path: String) throws(NetStoreError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw FileIO.error(errno, "open the lock file \(path)") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK {
                throw NetStoreError(.tryAgain, "another process uses the data directory (\(path) is locked): stop it or choose another directory")
            }
            throw FileIO.error(code, "lock \(path)")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
