import Foundation
import GRDB
import Logging
import NetStoreCore
import NetStoreStorage
import Testing

/// A store in a fresh temporary directory with two accounts, A and B, each with a root.
struct StoreFixture {
    static let a: AccountID = 1
    static let b: AccountID = 2

    let directory: URL
    let store: Store
    let rootA: NodeID
    let rootB: NodeID

    /// Runs `body` on a new store and removes its directory afterwards.
    static func with<T>(_ body: (StoreFixture) throws -> T) throws -> T {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(try StoreFixture(directory: directory))
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("netstore-storage-tests-\(UUID().uuidString)")
    }

    init(directory: URL) throws {
        self.directory = directory
        let store = try Store(directory: directory, logger: Logger(label: "test"))
        let roots = try store.database.write { db in
            (try store.createRoot(in: db, account: Self.a, uid: 1000, gid: 1000, now: 1),
             try store.createRoot(in: db, account: Self.b, uid: 1001, gid: 1001, now: 1))
        }
        self.store = store
        (rootA, rootB) = roots
    }

    /// Reopens an existing store (the previous `Store` must be released first).
    init(reopening directory: URL, rootA: NodeID, rootB: NodeID) throws {
        self.directory = directory
        store = try Store(directory: directory, logger: Logger(label: "test"))
        self.rootA = rootA
        self.rootB = rootB
    }

    // MARK: content helpers

    /// Uploads `bytes` as blocks and commits them as the file's next version.
    @discardableResult
    func writeFile(_ node: NodeID, _ bytes: [UInt8], account: AccountID = a, now: Int64 = 10) throws -> NodeAttributes {
        let current = try store.content(account: account, node: node)
        let ids = try putBlocks(bytes, now: now)
        return try store.commit(
            account: account, node: node, baseVersion: current.version, size: UInt64(bytes.count), blocks: ids, now: now)
    }

    /// Uploads `bytes` cut into blocks and returns their ids.
    func putBlocks(_ bytes: [UInt8], now: Int64 = 10) throws -> [BlockID] {
        var ids: [BlockID] = []
        for start in stride(from: 0, to: bytes.count, by: Limits.blockSize) {
            let chunk = Array(bytes[start ..< min(start + Limits.blockSize, bytes.count)])
            ids.append(try putBlock(chunk, now: now))
        }
        return ids
    }

    @discardableResult
    func putBlock(_ bytes: [UInt8], now: Int64 = 10) throws -> BlockID {
        let id = BlockStore.id(of: bytes)
        try bytes.withUnsafeBytes { try store.putBlock(id, bytes: $0, now: now) }
        return id
    }

    /// Reads a file's whole content as a reader would: blocks, holes and short
    /// blocks padded with zeros, up to the size.
    func readFile(_ node: NodeID, account: AccountID = a) throws -> [UInt8] {
        let content = try store.content(account: account, node: node)
        let blockSize = Limits.blockSize
        let count = (Int(content.size) + blockSize - 1) / blockSize
        var out: [UInt8] = []
        out.reserveCapacity(count * blockSize)
        for index in 0 ..< count {
            var block = index < content.blocks.count ? try store.getBlock(content.blocks[index]) : []
            block = Array(block.prefix(blockSize))
            block += [UInt8](repeating: 0, count: blockSize - block.count)
            out += block
        }
        return Array(out.prefix(Int(content.size)))
    }

    /// A block's reference count, or nil if it is not recorded.
    func refs(_ id: BlockID) throws -> Int? {
        try store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT refs FROM blocks WHERE hash = ?", arguments: [Data(id.bytes)])
        }
    }

    func file(_ name: String, in parent: NodeID? = nil, account: AccountID = a, now: Int64 = 5) throws -> NodeAttributes {
        try store.mknod(account: account, parent: parent ?? root(account), name: name, kind: .file,
                        mode: 0o644, uid: 1000, gid: 1000, now: now)
    }

    func dir(_ name: String, in parent: NodeID? = nil, account: AccountID = a, now: Int64 = 5) throws -> NodeAttributes {
        try store.mkdir(account: account, parent: parent ?? root(account), name: name,
                        mode: 0o755, uid: 1000, gid: 1000, now: now)
    }

    func root(_ account: AccountID) -> NodeID { account == Self.a ? rootA : rootB }

    /// The names in a directory, in listing order.
    func names(_ directory: NodeID, account: AccountID = a) throws -> [String] {
        try store.readdir(account: account, directory: directory, cookie: 0, limit: Limits.maxReaddirPage)
            .entries.map(\.name)
    }

    /// The ids of the blocks kept in the database (small ones), in id order.
    func smallBlocks() throws -> [BlockID] {
        try store.database.read { db in
            try Data.fetchAll(db, sql: "SELECT hash FROM small_blocks ORDER BY hash").compactMap { BlockID(bytes: [UInt8]($0)) }
        }
    }

    /// Stored copies of blocks: files, and blocks kept in the database.
    func storedBlockCount() throws -> Int {
        try blockFiles().count + smallBlocks().count
    }

    /// Changes one byte of a block kept in the database, as damage would.
    func damageSmallBlock(_ id: BlockID) throws {
        try store.database.write { db in
            var bytes = try #require(try Data.fetchOne(db, sql: "SELECT bytes FROM small_blocks WHERE hash = ?", arguments: [Data(id.bytes)]))
            bytes[bytes.startIndex + 10] ^= 0xFF
            try db.execute(sql: "UPDATE small_blocks SET bytes = ? WHERE hash = ?", arguments: [bytes, Data(id.bytes)])
        }
    }

    /// Removes a block's bytes from the database, leaving its row, as a lost copy would.
    func dropSmallBlock(_ id: BlockID) throws {
        try store.database.write { db in
            try db.execute(sql: "DELETE FROM small_blocks WHERE hash = ?", arguments: [Data(id.bytes)])
        }
    }

    /// Every block file under `blocks/` (temporary files excluded).
    func blockFiles() -> [String] {
        let root = directory.appendingPathComponent("blocks").path
        let all = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
        // Block files are named by their 64 hex digits; directories by 2.
        return all.filter { !$0.hasPrefix("tmp") && ($0.split(separator: "/").last?.count ?? 0) == 64 }
    }
}

/// Bytes that are never zero, different for each seed.
func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0 ..< count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed &* 7) % 251 + 1) }
}

/// Expects `body` to throw a `NetStoreError` with `code`, and returns it.
@discardableResult
func expectError(
    _ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> NetStoreError? {
    do {
        try body()
        Issue.record("expected \(code.name), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as NetStoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code.name), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
