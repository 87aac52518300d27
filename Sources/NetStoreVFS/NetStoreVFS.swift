#if canImport(Glibc)
import Glibc
#endif
import Logging
import NetStoreClient
import NetStoreCore
import Synchronization

/// File-system semantics over a NetStore session, as the mount's kernel
/// interface needs them, with no kernel interface of its own: inode numbers
/// and lookup counts, open file and directory handles, a local on-disk
/// write-back area committed on flush, fsync and release, and a local block
/// cache with read-ahead. Every method's errors are `NetStoreError`s whose
/// `code.errno` is what the calling program should see.
///
/// Attributes handed out carry the kernel inode number in `id`.
public final class NetStoreVFS: Sendable {
    enum Handle {
        case file(OpenFile, flags: Int32)
        case directory(DirectoryHandle)
    }

    struct Tables {
        var nextHandle: UInt64 = 1
        var handles: [UInt64: Handle] = [:]
        /// Open regular files by inode, with the number of handles on each.
        var files: [UInt64: (file: OpenFile, handles: Int)] = [:]
        /// The content version each inode was last opened or committed at: an
        /// open at the same version may keep the kernel's page cache.
        var seenVersions: [UInt64: UInt64] = [:]
        /// Open files without a visible name, by inode: their name in the hidden directory.
        var unlinked: [UInt64: String] = [:]
        /// This mount's own directory of parked files, inside the hidden one.
        var unlinkedDirectory: NodeID?
        /// Files made here that the server has not made yet, by inode (docs/mount.md,
        /// "Files made at close").
        private(set) var unmade: [UInt64: OpenFile] = [:]
        /// The same files by the name each is to have, so a lookup finds one without a scan.
        private var unmadeByName: [EntryName: UInt64] = [:]

        struct EntryName: Hashable {
            var parent: NodeID
            var name: String
        }

        mutating func addUnmade(_ file: OpenFile) {
            unmade[file.inode] = file
            if let creation = file.creation { unmadeByName[EntryName(parent: creation.parent, name: creation.name)] = file.inode }
        }

        /// Takes `inode` out of the files not yet made; whether it was one.
        mutating func removeUnmade(_ inode: UInt64) -> Bool {
            guard let file = unmade.removeValue(forKey: inode) else { return false }
            if let creation = file.creation {
                let key = EntryName(parent: creation.parent, name: creation.name)
                if unmadeByName[key] == inode { unmadeByName[key] = nil }
            }
            return true
        }

        func unmadeFile(parent: NodeID, name: String) -> OpenFile? {
            unmadeByName[EntryName(parent: parent, name: name)].flatMap { unmade[$0] }
        }
        /// Refreshes that directory's lease and sweeps dead mounts' (see NetStoreVFS+Sweep).
        var housekeeping: Task<Void, Never>?
    }

    public let client: NetStoreClient
    public let configuration: VFSConfiguration
    public let inodes: InodeTable
    /// Names this mount's directory of parked files; random, so mounts of one account never share one.
    public let mountID: String
    let logger: Logger
    let attributes: AttributeCache
    let entries: EntryCache
    let blocks: BlockCache
    let writeBackDirectory: String
    let tables = Mutex(Tables())
    /// How many files are in `Tables.unmade`: while none, lookups skip the lock.
    let unmadeCount = Atomic<Int>(0)
    /// Write-back mode's staged new files (NetStoreVFS+WriteBack); nil when off.
    let staging: StagedUploads?
    let uploader = Mutex<Task<Void, Never>?>(nil)

    /// Opens the caches under `configuration.cacheDirectory` for the session's account.
    public init(client: NetStoreClient, rootNode: NodeID, configuration: VFSConfiguration, logger: Logger) throws(NetStoreError) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        inodes = InodeTable(rootNode: rootNode, logger: logger)
        mountID = String(UInt64.random(in: 1...UInt64.max), radix: 16)
        let timeout: @Sendable () -> Duration = { [client] in
            .milliseconds(Int64(Self.cacheTimeout(configuration, watchLive: client.isWatchLive) * 1000))
        }
        attributes = AttributeCache(timeout: timeout)
        entries = EntryCache(timeout: timeout)
        writeBackDirectory = "\(configuration.cacheDirectory)/writeback"
        try BlockCache.makeDirectory(writeBackDirectory)
        blocks = try BlockCache(
            directory: "\(configuration.cacheDirectory)/blocks", limit: configuration.blockCacheLimit,
            client: client, logger: logger)
        staging = try configuration.stagingDirectory.map { directory throws(NetStoreError) in
            StagedUploads(journal: try StagingJournal(directory: directory))
        }
    }

    /// Connects (if not yet) and opens the file system at the account's root.
    public static func start(client: NetStoreClient, configuration: VFSConfiguration, logger: Logger) async throws(NetStoreError) -> NetStoreVFS {
        let session = try await client.requireSession()
        let vfs = try NetStoreVFS(client: client, rootNode: session.user.rootNode, configuration: configuration, logger: logger)
        // The first sweep of dead mounts' parked files runs before anything is served.
        await vfs.sweepUnlinked()
        vfs.startHousekeeping()
        // What a previous mount staged is made before anything is served.
        try await vfs.startStaging()
        return vfs
    }

    // MARK: - Lookup counts

    /// The kernel received one more entry for `inode` (a readdirplus entry it kept).
    public func remember(_ inode: UInt64) {
        inodes.remember(inode)
    }

    /// The kernel dropped lookups of `inode`. What this layer cached about its
    /// node stays until it expires or a change notice drops it: the kernel
    /// forgets under memory pressure (or `drop_caches`), which says nothing of
    /// the node, and a lookup after that then needs no request.
    public func forget(_ inode: UInt64, count: UInt64) {
        inodes.forget(inode, count: count)
    }

    // MARK: - Helpers

    /// Where attributes handed to the kernel come from, which says what they
    /// may be older than (AttributeCache).
    enum AttributeSource {
        /// The server's answer to a request asked for at this stamp of the
        /// attribute cache (for a listing, the stamp of its first page).
        case answer(asOf: UInt64)
        /// The server's answer to a change made here (or this mount's own
        /// attributes of a file it has not made on the server yet).
        case changedHere
        /// The attribute cache.
        case cache
    }

    /// Attributes as the kernel should see them: cached if they are an answer,
    /// reconciled with newer ones seen and changes made here, with an open
    /// file's local changes overlaid, under the kernel's inode number.
    func present(_ raw: NodeAttributes, _ source: AttributeSource) -> NodeAttributes {
        var result = switch source {
        case .answer(let stamp): attributes.put(raw, asOf: stamp)
        case .changedHere: attributes.changedHere(raw)
        case .cache: attributes.reconciled(raw, asOf: .max)
        }
        let inode = inodes.inode(of: raw.id)
        if raw.kind == .file, let file = openFile(inode) {
            result = file.overlay(result)
            // The hidden name is not one a program can see.
            if isUnlinked(inode) { result.nlink = result.nlink > 0 ? result.nlink - 1 : 0 }
        }
        result.id = inode
        return result
    }

    /// Like `present`, and the kernel holds one more lookup on it.
    func entry(_ raw: NodeAttributes, _ source: AttributeSource) -> NodeAttributes {
        let result = present(raw, source)
        inodes.remember(result.id)
        return result
    }

    func openFile(_ inode: UInt64) -> OpenFile? {
        tables.withLock { $0.files[inode]?.file }
    }

    func handle(_ number: UInt64) throws(NetStoreError) -> Handle {
        guard let handle = tables.withLock({ $0.handles[number] }) else {
            throw NetStoreError(.badHandle, "no open handle \(number)")
        }
        return handle
    }

    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// How many open files hold uncommitted changes.
    public var dirtyFileCount: Int {
        tables.withLock { $0.files.values.filter { $0.file.snapshot.needsCommit }.count }
    }

    /// Open handles (files and directories).
    public var openHandleCount: Int { tables.withLock { $0.handles.count } }

    /// Commits every open file's changes (at unmount). Returns how many could not be saved.
    @discardableResult
    public func flushAll() async -> Int {
        let files = tables.withLock { $0.files.values.map(\.file) }
        var failed = 0
        for file in files {
            do {
                try await commit(file)
            } catch {
                failed += 1
                logger.error("changes to a file could not be saved", metadata: ["node": "\(file.node)", "error": "\(error)"])
            }
        }
        let hidden = tables.withLock { tables in
            defer { tables.unlinked.removeAll() }
            return Array(tables.unlinked.values)
        }
        for name in hidden { await removeHidden(name) }
        await stopStaging(within: .seconds(30))
        await stopHousekeeping()
        return failed
    }
}
