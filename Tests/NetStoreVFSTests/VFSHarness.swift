import Foundation
import Logging
import NetStoreClient
import NetStoreCore
import NetStoreServer
import NetStoreVFS
import Testing

/// A real server with a real store in a temp directory, in this process; a
/// client logged in as the admin; and the file-system layer over it.
final class VFSHarness: @unchecked Sendable {
    static let password = "admin-password-1"

    let directory: URL
    let server: NetStoreServer
    let serving: Task<Void, any Error>
    let client: NetStoreClient
    let vfs: NetStoreVFS
    let port: Int
    let passwordFile: URL
    let context = RequestContext(uid: 1234, gid: 5678)

    init(cacheLimit: UInt64 = 1 << 30, earlyUploads: Int = 8, attributeTimeout: Double = 1,
         watchedAttributeTimeout: Double? = nil, writeBack: Bool = false) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vfs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        passwordFile = directory.appendingPathComponent("admin-password")
        try Self.password.write(to: passwordFile, atomically: true, encoding: .utf8)
        var logger = Logger(label: "vfs-test")
        logger.logLevel = .warning
        server = try NetStoreServer(
            configuration: ServerConfiguration(
                port: 0, dataDirectory: directory.appendingPathComponent("data"), adminPasswordFile: passwordFile),
            logger: logger)
        (serving, port) = try await server.start()
        client = NetStoreClient(
            servers: [ServerAddress(host: "127.0.0.1", port: port)],
            credentials: .password(user: "admin", password: Self.password), logger: logger)
        vfs = try await NetStoreVFS.start(
            client: client,
            configuration: VFSConfiguration(
                cacheDirectory: directory.appendingPathComponent("cache").path, blockCacheLimit: cacheLimit,
                attributeTimeout: attributeTimeout, earlyUploads: earlyUploads,
                watchedAttributeTimeout: watchedAttributeTimeout,
                stagingDirectory: writeBack ? directory.appendingPathComponent("staged").path : nil),
            logger: logger)
    }

    /// Requests the server has answered so far, by opcode name (from its metrics).
    func requests() -> [String: Int] {
        var counts: [String: Int] = [:]
        let text = String(decoding: server.metrics.render(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("netstore_requests_total{opcode=\"") {
            let rest = line.dropFirst("netstore_requests_total{opcode=\"".count)
            guard let quote = rest.firstIndex(of: "\""), let count = Double(rest.split(separator: " ").last ?? "") else { continue }
            counts[String(rest[..<quote]), default: 0] += Int(count)
        }
        return counts
    }

    /// The requests `body` made, by opcode name (those it made none of are left out).
    func requests(during body: () async throws -> Void) async rethrows -> [String: Int] {
        let before = requests()
        try await body()
        return requests().reduce(into: [:]) { result, item in
            let made = item.value - (before[item.key] ?? 0)
            if made > 0 { result[item.key] = made }
        }
    }

    /// Stops the server and removes the directory.
    func close() async {
        await client.close()
        server.shutdown()
        _ = try? await serving.value
        await server.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Creates `name` in the root, writes `bytes`, closes it; returns its inode.
    @discardableResult
    func writeFile(_ name: String, _ bytes: [UInt8]) async throws -> UInt64 {
        let (attributes, opened) = try await vfs.create(
            parent: InodeTable.rootInode, name: name, mode: 0o644, flags: O_WRONLY | O_CREAT, context: context)
        if !bytes.isEmpty {
            _ = try await vfs.write(attributes.id, handle: opened.handle, offset: 0, bytes: bytes)
        }
        try await vfs.flush(attributes.id, handle: opened.handle)
        try await vfs.release(attributes.id, handle: opened.handle)
        return attributes.id
    }

    /// The blocks stored in a cache's block directory (not those being written).
    func storedBlocks(in blocks: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: blocks.path).filter { !$0.hasSuffix(".tmp") }
    }

    /// A second file-system layer over the same session with a block cache of
    /// its own in `name`, empty (the first layer kept the blocks it uploaded);
    /// returns it and its cache's block directory.
    func coldLayer(_ name: String, readAheadBlocks: Int, cacheLimit: UInt64 = 1 << 30) async throws -> (vfs: NetStoreVFS, blocks: URL) {
        let cache = directory.appendingPathComponent(name)
        let layer = try await NetStoreVFS.start(
            client: client,
            configuration: VFSConfiguration(cacheDirectory: cache.path, blockCacheLimit: cacheLimit, readAheadBlocks: readAheadBlocks),
            logger: .init(label: "cold"))
        return (layer, cache.appendingPathComponent("blocks"))
    }

    /// The items of directory `inode` (without "." and ".."), as a listing
    /// from the start with a fresh handle shows them.
    func list(_ inode: UInt64) async throws -> [NetStoreVFS.DirectoryItem] {
        let handle = try await vfs.opendir(inode)
        defer { vfs.releasedir(handle) }
        return try await vfs.readdir(inode, handle: handle, offset: 0, limit: 100_000).filter { !$0.isDot }
    }

    /// The whole file as the server has it, read with a fresh open.
    func readFile(_ inode: UInt64) async throws -> [UInt8] {
        let opened = try await vfs.open(inode, flags: O_RDONLY)
        defer { Task { try? await vfs.release(inode, handle: opened.handle) } }
        let size = try await vfs.getattr(inode).size
        var out: [UInt8] = []
        while UInt64(out.count) < size {
            let chunk = try await vfs.read(inode, handle: opened.handle, offset: UInt64(out.count), count: 1 << 20)
            if chunk.isEmpty { break }
            out += chunk
        }
        return out
    }

    /// The file's content as stored on the server (not through the mount's caches).
    func serverBytes(_ inode: UInt64) async throws -> [UInt8] {
        let content = try await client.getContent(vfs.inodes.node(of: inode))
        var out: [UInt8] = []
        try await client.readBlocks(of: content) { _, bytes throws(NetStoreError) in
            out += Array(bytes.readableBytesView)
        }
        return out
    }
}

/// The segment files of the write-back journal in `directory`.
func journalSegments(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("segment-") }
}

/// Seeded bytes that differ from block to block.
func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

/// The errno a call failed with, or nil if it succeeded.
func errnoOf(_ body: () async throws -> Void) async -> Int32? {
    do {
        try await body()
        return nil
    } catch let error as NetStoreError {
        return error.code.errno
    } catch {
        Issue.record("unexpected error type: \(error)")
        return -1
    }
}
