import Logging
import NetStoreClient
import NetStoreCore
import Synchronization

/// One open regular file, shared by every handle open on it: the content it was
/// opened at (`base`), and the local write-back area holding the blocks written
/// since (`dirty`). Writes, truncates and commits take `lock` one at a time;
/// reads work on a snapshot of the state and need no lock.
final class OpenFile: Sendable {
    struct State {
        /// The committed content this file's local changes apply to.
        var base: FileContent
        /// The file's size as programs see it now.
        var size: UInt64
        /// Base bytes at or past this offset were cut by a truncate and read as zeros.
        var validBase: UInt64
        /// Blocks whose bytes are in the write-back file (a superset of `dirty`).
        var local: Set<Int> = []
        /// Blocks changed since the last commit.
        var dirty: Set<Int> = []
        /// Local modification time of uncommitted changes.
        var modifiedNs: Int64?
        /// The server's answer to the last commit from this mount.
        var lastCommitted: NodeAttributes?
        var handles = 0
        /// The last block read, to recognise a sequential reader.
        var lastRead: Int?
        /// Blocks (by hash) uploaded early, while the file was being written, and when.
        var uploaded: [BlockID: ContinuousClock.Instant] = [:]
        /// Early uploads running now.
        var uploadsInFlight = 0
        /// Completed blocks left waiting while `earlyUploads` were running; a
        /// finished upload takes the next one.
        var uploadBacklog: Set<Int> = []
        /// Per block, how many writes have changed its bytes, and how many
        /// truncates the file had: a hash taken while neither moved is still true.
        var blockWrites: [Int: UInt64] = [:]
        var truncations: UInt64 = 0
        /// Ids of dirty blocks hashed by an early upload and not written since,
        /// so the commit need not read and hash them again.
        var hashed: [Int: BlockID] = [:]

        var needsCommit: Bool {
            !dirty.isEmpty || size != base.size || validBase < base.size
        }
    }

    /// A file this mount made that the server has not made yet (docs/mount.md,
    /// "Files made at close"): where and as what it is to be made.
    struct Creation: Sendable {
        var parent: NodeID
        var name: String
        /// What the kernel was told: kind, mode, owner and times.
        var attributes: NodeAttributes
    }

    let inode: UInt64
    let lock = AsyncLock()
    /// The node, and while the server has not made it, how to make it.
    private let identity: Mutex<(node: NodeID, creation: Creation?)>
    let state: Mutex<State>
    let blockSize = UInt64(Limits.blockSize)
    private let writeBack = Mutex<SparseFile?>(nil)
    private let writeBackDirectory: String

    init(inode: UInt64, node: NodeID, content: FileContent, writeBackDirectory: String, creation: Creation? = nil) {
        self.inode = inode
        identity = Mutex((node, creation))
        self.writeBackDirectory = writeBackDirectory
        state = Mutex(State(base: content, size: content.size, validBase: content.size))
    }

    var node: NodeID { identity.withLock { $0.node } }
    var creation: Creation? { identity.withLock { $0.creation } }

    /// The server made the file as `made` (callers hold `lock`): it is that node
    /// now, at that version, with the local changes still to commit.
    func made(_ made: NodeAttributes) {
        identity.withLock { $0 = (made.id, nil) }
        state.withLock { $0.base.version = made.version }
    }

    /// The file was staged with `size` bytes, last changed at `modifiedNs`: what
    /// the kernel is told of it until the server makes it.
    func staged(size: UInt64, modifiedNs: Int64) {
        identity.withLock { identity in
            identity.creation?.attributes.size = size
            identity.creation?.attributes.mtimeNs = modifiedNs
            identity.creation?.attributes.ctimeNs = modifiedNs
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// The write-back file, created at the first write.
    func sparseFile() throws(NetStoreError) -> SparseFile {
        if let file = writeBack.withLock({ $0 }) { return file }
        let file = SparseFile(directory: writeBackDirectory)
        return writeBack.withLock { current in
            if let current { return current }
            current = file
            return file
        }
    }

    /// Overlays local changes on attributes from the server. An answer given
    /// before this file's last commit here (a listing that raced the commit)
    /// shows that commit's content.
    func overlay(_ attributes: NodeAttributes) -> NodeAttributes {
        let state = snapshot
        var result = attributes
        if let committed = state.lastCommitted, committed.version > attributes.version {
            result = attributes.withContent(of: committed)
        }
        guard state.needsCommit else { return result }
        result.size = state.size
        if let modified = state.modifiedNs {
            result.mtimeNs = modified
            result.ctimeNs = max(result.ctimeNs, modified)
        }
        return result
    }

    /// Takes `content` as the base when it is a newer version; the local copies
    /// of the old blocks no longer apply (callers hold `lock`, with nothing dirty).
    func rebase(on content: FileContent) throws(NetStoreError) {
        guard content.version != snapshot.base.version else { return }
        if let file = writeBack.withLock({ $0 }) { try file.truncate(to: 0) }
        state.withLock { state in
            state.base = content
            state.size = content.size
            state.validBase = content.size
            state.local = []
            state.dirty = []
            state.lastRead = nil
            state.truncations += 1
            state.hashed = [:]
        }
    }

    // MARK: - Reading

    /// Up to `count` bytes at `offset`: local blocks from the write-back file,
    /// the others from the base content through the block cache.
    func read(at offset: UInt64, count: Int, cache: BlockCache, readAhead: Int) async throws(NetStoreError) -> [UInt8] {
        let state = snapshot
        guard offset < state.size, count > 0 else { return [] }
        let end = min(offset + UInt64(count), state.size)
        let first = Int(offset / blockSize)
        let last = Int((end - 1) / blockSize)
        let sequential = state.lastRead.map { $0 == first || $0 + 1 == first } ?? (first == 0)
        let retention = cache.retention(fileSize: state.size, sequential: sequential)
        var out: [UInt8] = []
        var position = offset
        while position < end {
            let index = Int(position / blockSize)
            let blockStart = UInt64(index) * blockSize
            let segmentEnd = min(end, blockStart + blockSize)
            let length = Int(segmentEnd - position)
            let segment = state.local.contains(index)
                ? try sparseFile().read(count: length, at: position)
                : try await readBase(state, index: index, from: position, count: length, cache: cache, retention: retention)
            if position == offset, segmentEnd == end {
                out = segment  // within one block, as most reads are: no copy
            } else {
                if out.isEmpty { out.reserveCapacity(Int(end - offset)) }
                out += segment
            }
            position = segmentEnd
        }
        self.state.withLock { $0.lastRead = last }
        if sequential, readAhead > 0 {
            for index in (last + 1)..<(last + 1 + readAhead) {
                guard index < state.base.blocks.count, UInt64(index) * blockSize < state.validBase,
                      !state.local.contains(index) else { break }
                cache.prefetch(state.base.blocks[index], retention: retention)
            }
        }
        return out
    }

    /// Bytes of base block `index`: zeros past `validBase`, past a short block, or in a hole.
    func readBase(_ state: State, index: Int, from position: UInt64, count: Int, cache: BlockCache,
                  retention: BlockCache.Retention = .keep) async throws(NetStoreError) -> [UInt8] {
        let blockStart = UInt64(index) * blockSize
        let readable = min(position + UInt64(count), state.validBase)
        guard index < state.base.blocks.count, position < readable, !state.base.blocks[index].isHole else {
            return [UInt8](repeating: 0, count: count)
        }
        let lower = Int(position - blockStart)
        let upper = Int(readable - blockStart)
        var bytes = try await cache.read(state.base.blocks[index], range: lower..<upper, retention: retention)
        if bytes.count < count { bytes += [UInt8](repeating: 0, count: count - bytes.count) }
        return bytes
    }

    // MARK: - Writing (callers hold `lock`)

    /// Writes into the write-back area; a block partly overwritten is first
    /// filled with its base bytes.
    func write(_ bytes: [UInt8], at offset: UInt64, cache: BlockCache, now: Int64) async throws(NetStoreError) {
        guard !bytes.isEmpty else { return }
        let end = offset + UInt64(bytes.count)
        guard end <= Limits.maxFileSize else {
            throw NetStoreError(.fileTooBig, "a file is at most \(Limits.maxFileSize) bytes")
        }
        let file = try sparseFile()
        let first = Int(offset / blockSize)
        let last = Int((end - 1) / blockSize)
        for index in first...last {
            try await materialize(index, unlessCovered: offset..<end, cache: cache)
        }
        try file.write(bytes, at: offset)
        state.withLock { state in
            // After the bytes are in: a hash begun before this write is not kept.
            for index in first...last {
                state.blockWrites[index, default: 0] &+= 1
                state.hashed[index] = nil
            }
            state.dirty.formUnion(first...last)
            state.size = max(state.size, end)
            state.modifiedNs = now
        }
    }

    /// Makes block `index` local: copies its base bytes into the write-back
    /// file, unless `covered` overwrites all of them.
    func materialize(_ index: Int, unlessCovered covered: Range<UInt64>, cache: BlockCache) async throws(NetStoreError) {
        let state = snapshot
        if state.local.contains(index) { return }
        let blockStart = UInt64(index) * blockSize
        let baseEnd = min(blockStart + blockSize, state.validBase)
        let hasBase = index < state.base.blocks.count && !state.base.blocks[index].isHole && blockStart < baseEnd
        if hasBase, !(covered.lowerBound <= blockStart && covered.upperBound >= baseEnd) {
            let bytes = try await readBase(state, index: index, from: blockStart, count: Int(baseEnd - blockStart), cache: cache)
            try sparseFile().write(bytes, at: blockStart)
        }
        self.state.withLock { _ = $0.local.insert(index) }
    }

    /// Truncates or extends the file locally. A base block cut in its middle is
    /// made local first, so the commit can send its shortened bytes.
    func truncate(to size: UInt64, cache: BlockCache, now: Int64) async throws(NetStoreError) {
        guard size <= Limits.maxFileSize else {
            throw NetStoreError(.fileTooBig, "a file is at most \(Limits.maxFileSize) bytes")
        }
        let state = snapshot
        if size < state.size, size % blockSize != 0 {
            let index = Int(size / blockSize)
            try await materialize(index, unlessCovered: 0..<0, cache: cache)
            self.state.withLock { _ = $0.dirty.insert(index) }
        }
        // Zeros everything past the new end, so a later extension reads zeros.
        if size < state.size, let file = writeBack.withLock({ $0 }) {
            try file.truncate(to: size)
        }
        self.state.withLock { state in
            let keep = Int((size + blockSize - 1) / blockSize)
            state.local = state.local.filter { $0 < keep }
            state.dirty = state.dirty.filter { $0 < keep }
            state.truncations &+= 1
            state.hashed = state.hashed.filter { $0.key < Int(size / blockSize) }
            state.validBase = min(state.validBase, size)
            state.size = size
            state.modifiedNs = now
        }
    }
}
