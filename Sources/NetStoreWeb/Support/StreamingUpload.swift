import Crypto
import NIOCore
import NetStoreClient
import NetStoreCore

/// Writes an HTTP request body to a file in the store as it arrives: the bytes
/// are cut into blocks, each block is hashed and sent (if the cluster lacks it)
/// while the next one is read, with at most `blocksInFlight` blocks in memory.
/// Only when the body has ended does one COMMIT make the new content visible,
/// so a failed or abandoned upload leaves the old file (or no file) behind.
struct StreamingUpload: Sendable {
    let client: NetStoreClient
    let parent: NodeID
    let path: RemotePath
    var name: String { path.name ?? "" }
    var blocksInFlight = 4

    func run<Body: AsyncSequence>(_ body: Body) async throws -> NodeAttributes where Body.Element == ByteBuffer {
        let sender = BlockSender(client: client, name: name, blocksInFlight: blocksInFlight)
        var cutter = BlockCutter(blockSize: Limits.blockSize)
        // Blocks still being sent when the upload fails are not needed any more.
        defer { sender.cancel() }
        for try await chunk in body {
            try await sender.add(chunk, cutter: &cutter)
        }
        if let last = cutter.finish() { try await sender.send(last) }
        try await sender.finish()
        let ids = sender.ids
        let size = sender.size
        let target = try await fileNode()
        switch await commit(target, size: size, blocks: ids) {
        case .success(let node):
            return node
        case .failure(let error) where error.code == .versionConflict:
            throw WebError(.conflict, "\(name) changed in the store during the upload: upload it again.")
        case .failure(let error):
            throw error
        }
    }

    /// The existing file to give a new version, or a new empty one.
    private func fileNode() async throws -> NodeAttributes {
        if let existing = try await client.resolveIfExists(path) {
            if existing.kind != .file {
                throw WebError(.conflict, "\(name) exists already and is not a regular file.")
            }
            return existing
        }
        switch await create() {
        case .success(let node):
            return node
        case .failure(let error) where error.code == .exists:
            // Created by someone else meanwhile: write a new version of theirs.
            return try await client.lookup(parent: parent, name: name)
        case .failure(let error):
            throw error
        }
    }

    // CREATE and COMMIT as values: Swift 6.3.1 crashes (SIL AllocBoxToStack)
    // on a partial `catch` of a typed error in these async functions.
    private func commit(_ target: NodeAttributes, size: UInt64, blocks: [BlockID]) async -> Result<NodeAttributes, NetStoreError> {
        do {
            return .success(try await client.commit(target.id, baseVersion: target.version, size: size, blocks: blocks))
        } catch {
            return .failure(error)
        }
    }

    private func create() async -> Result<NodeAttributes, NetStoreError> {
        do {
            return .success(try await client.create(parent: parent, name: name, mode: 0o644))
        } catch {
            return .failure(error)
        }
    }

    /// SHA-256 of the bytes, or the hole id for a block of zeros (not stored).
    static func blockID(of data: ByteBuffer) -> BlockID {
        data.withUnsafeReadableBytes { raw -> BlockID in
            if raw.allSatisfy({ $0 == 0 }) { return .hole }
            return BlockID(bytes: Array(SHA256.hash(data: raw)))!
        }
    }
}

/// Hashes blocks and sends those the cluster lacks, a few at a time, in the
/// background of the reading; remembers the block list for the commit.
/// Used by one upload, from one task.
final class BlockSender {
    let client: NetStoreClient
    let name: String
    let blocksInFlight: Int
    private(set) var ids: [BlockID] = []
    private(set) var size: UInt64 = 0
    /// Blocks being sent, oldest first.
    private var sending: [Task<Void, any Error>] = []

    init(client: NetStoreClient, name: String, blocksInFlight: Int) {
        self.client = client
        self.name = name
        self.blocksInFlight = blocksInFlight
    }

    /// Cuts a chunk of the body into blocks and sends each one that fills up.
    func add(_ chunk: ByteBuffer, cutter: inout BlockCutter) async throws {
        var chunk = chunk
        while chunk.readableBytes > 0 {
            if let block = cutter.add(&chunk) { try await send(block) }
        }
    }

    func send(_ data: ByteBuffer) async throws {
        let id = StreamingUpload.blockID(of: data)
        ids.append(id)
        size += UInt64(data.readableBytes)
        guard size <= Limits.maxFileSize else {
            throw WebError(.contentTooLarge, "\(name): larger than the largest file the store holds.")
        }
        if id.isHole { return }
        if sending.count >= blocksInFlight { try await sending.removeFirst().value }
        let client = self.client
        sending.append(Task {
            // A block the cluster holds already (another copy of the file) is not sent again.
            if try await client.hasBlocks([id]) != [true] {
                try await client.putBlock(id, data: data)
            }
        })
    }

    /// Waits for every block to be stored.
    func finish() async throws {
        while !sending.isEmpty { try await sending.removeFirst().value }
    }

    func cancel() {
        for task in sending { task.cancel() }
        sending = []
    }
}

/// Cuts a stream of buffers of any size into blocks of `blockSize` bytes.
struct BlockCutter {
    let blockSize: Int
    private var block = ByteBuffer()

    init(blockSize: Int) { self.blockSize = blockSize }

    /// Moves bytes from `chunk` into the current block; returns the block once it is full.
    mutating func add(_ chunk: inout ByteBuffer) -> ByteBuffer? {
        if block.capacity < blockSize { block.reserveCapacity(blockSize) }
        var slice = chunk.readSlice(length: min(blockSize - block.readableBytes, chunk.readableBytes))!
        block.writeBuffer(&slice)
        guard block.readableBytes == blockSize else { return nil }
        let full = block
        block = ByteBuffer()
        return full
    }

    /// The last, short block (nil when there is none).
    mutating func finish() -> ByteBuffer? {
        guard block.readableBytes > 0 else { return nil }
        let last = block
        block = ByteBuffer()
        return last
    }
}
