#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NetStoreClient
import NetStoreCore
import Synchronization

/// Blocks kept on local disk, one file per block named by its hash: a name
/// never changes meaning, so the cache is always coherent. The total size is
/// bounded; the least recently used blocks are removed first. Small blocks (a
/// small file's only one) are kept in memory instead, up to `memoryLimit`: a
/// file created, written and renamed for each would cost more than the file
/// it caches, and a small file's open brings its block along anyway.
final class BlockCache: Sendable {
    /// What becomes of a block fetched for a reader.
    enum Retention: Sendable {
        /// Cached: in its file (in memory if small), and among the recent blocks.
        case keep
        /// Among the recent blocks only: a file much larger than the cache read
        /// from start to end would otherwise push out everything else for
        /// bytes read once (and the kernel keeps the pages it read anyway).
        case passing
    }

    private struct Recent {
        let id: BlockID
        let bytes: [UInt8]
        let passing: Bool
        var readToEnd = false
    }

    private struct Item {
        var size: UInt64
        var lastUse: UInt64
        /// The bytes of a block kept in memory; nil: in its file.
        var bytes: [UInt8]?
    }

    private struct State {
        var items: [BlockID: Item] = [:]
        var total: UInt64 = 0
        var memoryTotal: UInt64 = 0
        var clock: UInt64 = 0
        var fetching: [BlockID: Task<[UInt8], any Error>] = [:]
        /// The large blocks fetched last, also kept in memory, oldest first: a
        /// sequential reader (and read-ahead) reads each one just after its
        /// fetch, and reading it back from its file cost a copy more per byte
        /// (a passing block has no file: fetching it again would cost more).
        var recent: [Recent] = []
        var recentTotal = 0

        /// Keeps a fetched block in memory; the blocks read to their end go
        /// first (a sequential reader is past them), then the oldest.
        mutating func keepRecent(_ id: BlockID, _ bytes: [UInt8], passing: Bool = false, limit: Int) {
            recent.append(Recent(id: id, bytes: bytes, passing: passing))
            recentTotal += bytes.count
            while recentTotal > limit {
                let index = recent.firstIndex(where: { $0.readToEnd }) ?? 0
                recentTotal -= recent[index].bytes.count
                recent.remove(at: index)
            }
        }

        /// A passing block read to its end is dropped: its reader is past it,
        /// and the kernel keeps the pages.
        mutating func readToEnd(_ id: BlockID) {
            guard let index = recent.lastIndex(where: { $0.id == id }) else { return }
            if recent[index].passing {
                recentTotal -= recent[index].bytes.count
                recent.remove(at: index)
            } else {
                recent[index].readToEnd = true
            }
        }

        mutating func dropRecent(_ id: BlockID) {
            guard let index = recent.firstIndex(where: { $0.id == id }) else { return }
            recentTotal -= recent[index].bytes.count
            recent.remove(at: index)
        }

        func isRecent(_ id: BlockID) -> Bool {
            recent.contains(where: { $0.id == id })
        }

        /// A block's bytes if they are in memory.
        func inMemory(_ id: BlockID) -> [UInt8]? {
            if let bytes = items[id]?.bytes { return bytes }
            return recent.last(where: { $0.id == id })?.bytes
        }

        /// Takes `item`'s bytes out of the totals (the caller removes or replaces it).
        mutating func forget(_ item: Item) {
            total -= item.size
            if item.bytes != nil { memoryTotal -= item.size }
        }
    }

    /// Blocks up to this size are kept in memory.
    static let smallBlock = Limits.inlineContentLimit
    /// How much of the large blocks fetched last stays in memory too: more
    /// than the read-ahead (8 blocks) fetches ahead of three sequential readers.
    static let recentLimit = 32 << 20

    let directory: String
    private let limit: UInt64
    private let memoryLimit: UInt64
    private let client: NetStoreClient
    private let logger: Logger
    private let state = Mutex(State())
    /// Whether the last block fetched could not be stored: said once in the log, not per block.
    private let storeFailing = Atomic<Bool>(false)

    init(directory: String, limit: UInt64, client: NetStoreClient, logger: Logger) throws(NetStoreError) {
        self.directory = directory
        self.limit = limit
        memoryLimit = min(limit / 8, 64 << 20)
        self.client = client
        self.logger = logger
        try Self.makeDirectory(directory)
        try scan()
    }

    /// How to keep the blocks a reader fetches from a file of `fileSize`
    /// bytes: passing when it reads sequentially a file larger than an eighth
    /// of the cache (as `insertWritten` leaves out such a file written here).
    func retention(fileSize: UInt64, sequential: Bool) -> Retention {
        sequential && fileSize > limit / 8 ? .passing : .keep
    }

    /// Bytes `range` of block `id` (fewer if the block is shorter), fetching it if needed.
    func read(_ id: BlockID, range: Range<Int>, retention: Retention = .keep) async throws(NetStoreError) -> [UInt8] {
        precondition(!id.isHole, "holes are not cached")
        for _ in 0..<2 {
            if let fetched = try await ensure(id, retention: retention) { return slice(id, fetched, range) }
            if let bytes = readLocal(id, range: range) { return bytes }
            // Evicted between the check and the read: fetch it.
        }
        throw NetStoreError(.io, "block \(id) keeps disappearing from the cache in \(directory)")
    }

    /// Starts fetching a block in the background (read-ahead); errors are left
    /// to the reader. The fetch is registered before this returns: one started
    /// later, by a task that ran late, could find its block already read and
    /// dropped and fetch it a second time.
    func prefetch(_ id: BlockID, retention: Retention = .keep) {
        guard !id.isHole else { return }
        _ = fetch(id, retention: retention)
    }

    func contains(_ id: BlockID) -> Bool {
        state.withLock { $0.items[id] != nil }
    }

    /// Keeps a block this mount uploaded, so reading it back needs no download.
    func insert(_ id: BlockID, bytes: [UInt8]) {
        guard !id.isHole, !contains(id) else { return }
        do {
            try store(id, bytes: bytes)
        } catch {
            logger.debug("cannot cache a block", metadata: ["block": "\(id)", "error": "\(error)"])
        }
    }

    /// Keeps a block of a file this mount wrote, unless the file is larger than
    /// an eighth of the cache: one big write would push out everything else, and
    /// keeping it costs a second local copy of every byte written.
    func insertWritten(_ id: BlockID, bytes: [UInt8], fileSize: UInt64) {
        guard fileSize <= limit / 8 else { return }
        insert(id, bytes: bytes)
    }

    /// Total bytes cached.
    var totalBytes: UInt64 { state.withLock { $0.total } }

    // MARK: - Internals

    private func path(_ id: BlockID) -> String { "\(directory)/\(id.hex)" }

    /// Makes block `id` readable here. Returns its bytes when it had to be
    /// fetched (by this call or one under way), nil when it was here already.
    private func ensure(_ id: BlockID, retention: Retention) async throws(NetStoreError) -> [UInt8]? {
        guard let task = fetch(id, retention: retention) else { return nil }
        do {
            return try await task.value
        } catch {
            throw NetStoreError.wrapping(error)
        }
    }

    /// The fetch of block `id`, started now or under way; nil when the block
    /// is here (its use counts as one).
    private func fetch(_ id: BlockID, retention: Retention) -> Task<[UInt8], any Error>? {
        state.withLock { state -> Task<[UInt8], any Error>? in
            if var item = state.items[id] {
                state.clock += 1
                item.lastUse = state.clock
                state.items[id] = item
                return nil
            }
            if let running = state.fetching[id] { return running }
            if state.isRecent(id) { return nil }
            let task = Task {
                defer { _ = self.state.withLock { $0.fetching.removeValue(forKey: id) } }
                let bytes = Array(try await self.client.readBlock(id).readableBytesView)
                self.keep(id, bytes, retention)
                return bytes
            }
            state.fetching[id] = task
            return task
        }
    }

    /// Keeps a block just fetched as `retention` says. A block that cannot
    /// be stored (a full disk) is still read: the cache is only a cache.
    private func keep(_ id: BlockID, _ bytes: [UInt8], _ retention: Retention) {
        switch retention {
        case .keep:
            do {
                try store(id, bytes: bytes, keepRecent: true)
                if storeFailing.exchange(false, ordering: .relaxed) {
                    logger.notice("blocks are cached again", metadata: ["directory": "\(directory)"])
                }
            } catch {
                if !storeFailing.exchange(true, ordering: .relaxed) {
                    logger.warning("blocks read are not cached until the cache can be written; they are read all the same", metadata: [
                        "block": "\(id)", "error": "\(error.message)"])
                }
                state.withLock { $0.keepRecent(id, bytes, limit: Self.recentLimit) }
            }
        case .passing:
            state.withLock { $0.keepRecent(id, bytes, passing: true, limit: Self.recentLimit) }
        }
    }

    /// Bytes `range` of a block in memory; a read to the block's end marks it read to its end.
    private func slice(_ id: BlockID, _ bytes: [UInt8], _ range: Range<Int>) -> [UInt8] {
        if range.upperBound >= bytes.count { state.withLock { $0.readToEnd(id) } }
        if range.lowerBound == 0, range.upperBound >= bytes.count { return bytes }  // the whole block, as a 1 MiB read asks: no copy
        return range.lowerBound < bytes.count ? Array(bytes[range.lowerBound..<min(range.upperBound, bytes.count)]) : []
    }

    private func readLocal(_ id: BlockID, range: Range<Int>) -> [UInt8]? {
        if let bytes = state.withLock({ $0.inMemory(id) }) { return slice(id, bytes, range) }
        let fd = open(path(id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            state.withLock { state in
                if let item = state.items.removeValue(forKey: id) { state.forget(item) }
            }
            return nil
        }
        defer { close(fd) }
        // What could be read: a short or failed read is a shorter block, which the caller checks.
        return [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            initialized = Descriptor.readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), at: UInt64(range.lowerBound)).count
        }
    }

    /// Writes the block to a temporary name and renames it into place, so a
    /// reader never sees half a block. `keepRecent`: a fetched block, kept in
    /// memory too for a while (`recentLimit`).
    private func store(_ id: BlockID, bytes: [UInt8], keepRecent: Bool = false) throws(NetStoreError) {
        if bytes.count <= Self.smallBlock, memoryLimit > 0 {
            return remember(id, Item(size: UInt64(bytes.count), lastUse: 0, bytes: bytes))
        }
        let final = path(id)
        let temporary = "\(final).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NetStoreError(.io, "cannot write to the block cache \(directory): \(String(cString: strerror(errno)))") }
        let code = bytes.withUnsafeBytes { Descriptor.writeAll(fd, $0) }
        close(fd)
        guard code == 0 else {
            unlink(temporary)
            throw NetStoreError(.io, "cannot write to the block cache \(directory): \(String(cString: strerror(code)))")
        }
        guard rename(temporary, final) == 0 else {
            unlink(temporary)
            throw NetStoreError(.io, "cannot write to the block cache \(directory)")
        }
        remember(id, Item(size: UInt64(bytes.count), lastUse: 0))
        if keepRecent { state.withLock { $0.keepRecent(id, bytes, limit: Self.recentLimit) } }
    }

    /// Indexes a block just stored (in memory or as its file) as the most
    /// recently used, and evicts what no longer fits.
    private func remember(_ id: BlockID, _ item: Item) {
        let victims = state.withLock { state -> [BlockID] in
            state.clock += 1
            if let old = state.items[id] { state.forget(old) }
            var item = item
            item.lastUse = state.clock
            state.items[id] = item
            state.total += item.size
            if item.bytes != nil {
                state.memoryTotal += item.size
                Self.evictFromMemory(&state, limit: memoryLimit, keep: id)
            }
            return Self.evictions(&state, limit: limit, keep: id)
        }
        for victim in victims { unlink(path(victim)) }
    }

    /// Chooses the least recently used blocks to drop until the cache is at
    /// 90% of its limit, and forgets them; returns those whose files are to go.
    private static func evictions(_ state: inout State, limit: UInt64, keep: BlockID) -> [BlockID] {
        guard state.total > limit else { return [] }
        let target = limit / 10 * 9
        var victims: [BlockID] = []
        for (id, item) in state.items.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
            if state.total <= target { break }
            if id == keep { continue }
            if item.bytes == nil {
                victims.append(id)
                state.dropRecent(id)
            }
            state.forget(item)
            state.items.removeValue(forKey: id)
        }
        return victims
    }

    /// The same for the blocks kept in memory (none has a file to remove).
    private static func evictFromMemory(_ state: inout State, limit: UInt64, keep: BlockID) {
        guard state.memoryTotal > limit else { return }
        let target = limit / 10 * 9
        for (id, item) in state.items.filter({ $0.value.bytes != nil }).sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
            if state.memoryTotal <= target { break }
            if id == keep { continue }
            state.forget(item)
            state.items.removeValue(forKey: id)
        }
    }

    /// Indexes what an earlier mount left; removes unfinished temporary files.
    private func scan() throws(NetStoreError) {
        guard let dir = opendir(directory) else { throw NetStoreError(.io, "cannot read the block cache \(directory)") }
        defer { closedir(dir) }
        var found: [(BlockID, UInt64)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let full = "\(directory)/\(name)"
            guard let id = BlockID(hex: name) else {
                if name.hasSuffix(".tmp") { unlink(full) }
                continue
            }
            var info = stat()
            if stat(full, &info) == 0 { found.append((id, UInt64(info.st_size))) }
        }
        let victims = state.withLock { state -> [BlockID] in
            for (id, size) in found {
                state.clock += 1
                state.items[id] = Item(size: size, lastUse: state.clock)
                state.total += size
            }
            return Self.evictions(&state, limit: limit, keep: .hole)
        }
        for victim in victims { unlink(path(victim)) }
    }

    static func makeDirectory(_ path: String) throws(NetStoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw NetStoreError(.io, "cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}

extension NetStoreError {
    /// Any error out of a task: ours as it is, anything else (cancellation) as EIO.
    static func wrapping(_ error: any Error) -> NetStoreError {
        if let error = error as? NetStoreError { return error }
        if error is CancellationError { return NetStoreError(.io, "cancelled") }
        return NetStoreError(.io, "\(error)")
    }
}
