import Foundation
import GRDB
import Logging
import NetStoreCore

// STUB: signatures only; the real storage engine replaces the bodies.

/// Immutable blocks on local disk, named by their SHA-256.
public final class BlockStore: Sendable {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        fatalError("not implemented")
    }

    public static func id(of bytes: UnsafeRawBufferPointer) -> BlockID { fatalError("not implemented") }

    public func contains(_ id: BlockID) -> Bool { fatalError("not implemented") }

    /// Writes a block durably (temp file, fsync, rename, fsync of the directory).
    /// Throws `.invalid` when `bytes` do not hash to `id`; storing a block twice is a no-op.
    public func write(_ id: BlockID, bytes: UnsafeRawBufferPointer) throws { fatalError("not implemented") }

    /// Reads and verifies a block: `.noEntry` if absent, `.corruptBlock` if its bytes do not match `id`.
    public func read(_ id: BlockID) throws -> [UInt8] { fatalError("not implemented") }

    public func remove(_ id: BlockID) throws { fatalError("not implemented") }
}

/// The store: the SQLite namespace plus the block store, under one directory.
///
/// Every method that changes something takes `now` (nanoseconds since the epoch)
/// from the caller, so that the same calls give the same state on every server.
/// All methods check that the nodes they name belong to `account`; a node of
/// another account is reported as `.noEntry`, as if it did not exist.
public final class Store: Sendable {
    public let database: DatabasePool
    public let blocks: BlockStore

    /// Opens (creating if needed) `directory/metadata.sqlite` and `directory/blocks/`.
    public init(directory: URL, logger: Logger) throws {
        fatalError("not implemented")
    }

    // MARK: accounts (called by NetStoreAuth inside its own write transaction)

    /// Creates an account's root directory (mode 0o755) and returns its id.
    public func createRoot(in db: Database, account: AccountID, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeID {
        fatalError("not implemented")
    }

    /// Deletes every node and entry of an account and releases their blocks.
    public func deleteAccountTree(in db: Database, account: AccountID) throws { fatalError("not implemented") }

    // MARK: namespace

    public func lookup(account: AccountID, parent: NodeID, name: String) throws -> NodeAttributes { fatalError("not implemented") }
    public func getattr(account: AccountID, node: NodeID) throws -> NodeAttributes { fatalError("not implemented") }
    public func readdir(account: AccountID, directory: NodeID, cookie: UInt64, limit: Int) throws -> DirectoryPage { fatalError("not implemented") }
    public func mkdir(account: AccountID, parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes { fatalError("not implemented") }
    public func mknod(account: AccountID, parent: NodeID, name: String, kind: NodeKind, mode: UInt32, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes { fatalError("not implemented") }
    public func symlink(account: AccountID, parent: NodeID, name: String, target: String, uid: UInt32, gid: UInt32, now: Int64) throws -> NodeAttributes { fatalError("not implemented") }
    public func link(account: AccountID, node: NodeID, newParent: NodeID, newName: String, now: Int64) throws -> NodeAttributes { fatalError("not implemented") }
    public func unlink(account: AccountID, parent: NodeID, name: String, now: Int64) throws { fatalError("not implemented") }
    public func rmdir(account: AccountID, parent: NodeID, name: String, now: Int64) throws { fatalError("not implemented") }
    public func rename(account: AccountID, parent: NodeID, name: String, newParent: NodeID, newName: String, flags: RenameFlags, now: Int64) throws { fatalError("not implemented") }
    public func readlink(account: AccountID, node: NodeID) throws -> String { fatalError("not implemented") }
    public func setattr(account: AccountID, node: NodeID, changes: SetAttributes, now: Int64) throws -> NodeAttributes { fatalError("not implemented") }
    public func statfs(account: AccountID) throws -> FileSystemStats { fatalError("not implemented") }

    // MARK: content

    public func content(account: AccountID, node: NodeID) throws -> FileContent { fatalError("not implemented") }
    /// Swaps in a new block list atomically if the file is still at `baseVersion`.
    public func commit(account: AccountID, node: NodeID, baseVersion: UInt64, size: UInt64, blocks: [BlockID], now: Int64) throws -> NodeAttributes { fatalError("not implemented") }
    public func hasBlocks(_ ids: [BlockID]) throws -> [Bool] { fatalError("not implemented") }
    /// Verifies and stores a block, and records it (unreferenced until a commit names it).
    public func putBlock(_ id: BlockID, bytes: UnsafeRawBufferPointer, now: Int64) throws { fatalError("not implemented") }
    public func getBlock(_ id: BlockID) throws -> [UInt8] { fatalError("not implemented") }
    /// Deletes unreferenced blocks stored before `storedBefore`; returns how many.
    public func collectGarbage(storedBefore: Int64) throws -> Int { fatalError("not implemented") }

    // MARK: status

    public func counts() throws -> (nodes: UInt64, users: UInt64, blocks: UInt64, blockBytes: UInt64) { fatalError("not implemented") }
}
