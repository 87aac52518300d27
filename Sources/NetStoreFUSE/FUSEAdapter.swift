import CFuse3
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NetStoreCore
import NetStoreVFS
import Synchronization

/// The kernel's requests, each turned into one call of the file-system layer
/// in a task of its own (so a slow network call never holds up others) and
/// answered exactly once. No file-system semantics live here.
final class FUSEAdapter: Sendable {
    let vfs: NetStoreVFS
    let logger: Logger
    private let inFlight = Atomic<Int>(0)
    /// The mount point whose read-ahead the first open or create raises: after INIT,
    /// whose answer would lower it again (ReadAhead); nil once done.
    private let readAheadMountpoint = Mutex<String?>(nil)

    init(vfs: NetStoreVFS, logger: Logger) {
        self.vfs = vfs
        self.logger = logger
    }

    /// The attribute and entry timeout of replies made now: long while the
    /// mount's watch for changes is live, short otherwise.
    var timeout: Double { vfs.cacheTimeout }

    /// Requests whose reply has not been sent yet.
    var requestsInFlight: Int { inFlight.load(ordering: .acquiring) }

    func raiseReadAheadAtFirstOpen(mountpoint: String) {
        readAheadMountpoint.withLock { $0 = mountpoint }
    }

    /// Raises the mount's read-ahead once, from the first open or create.
    func raiseReadAheadIfPending() {
        guard let mountpoint = readAheadMountpoint.withLock({ value -> String? in
            defer { value = nil }
            return value
        }) else { return }
        if let failure = ReadAhead.raise(mountpoint: mountpoint) {
            logger.debug("the kernel's read-ahead stays as it was", metadata: ["reason": "\(failure)"])
        } else {
            logger.debug("read-ahead raised", metadata: ["kibibytes": "\(ReadAhead.kibibytes)"])
        }
    }

    static func from(_ req: fuse_req_t?) -> FUSEAdapter {
        Unmanaged<FUSEAdapter>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// Runs `body` in a task; it must reply. NetStoreErrors become errno replies.
    ///
    /// The task starts on the kernel's thread and runs there until it first
    /// waits (for the network, a lock, a file being made): what the mount
    /// answers from its own state (a write into memory, a staged close) is
    /// answered with no hand-off to another thread and back.
    func serve(_ req: fuse_req_t?, _ name: StaticString, _ body: @escaping @Sendable (FUSERequest) async throws(NetStoreError) -> Void) {
        let request = FUSERequest(raw: req!)
        inFlight.wrappingAdd(1, ordering: .relaxed)
        Task.immediate {
            do throws(NetStoreError) {
                try await body(request)
            } catch {
                if error.code.errno == EIO || error.code == .versionConflict {
                    logger.warning("\(name) failed", metadata: ["error": "\(error)"])
                } else {
                    logger.debug("\(name) failed", metadata: ["error": "\(error)"])
                }
                request.fail(error)
            }
            inFlight.wrappingSubtract(1, ordering: .releasing)
        }
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    // MARK: - Operations

    func lookup(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String) {
        // What the caches know is answered here, on the kernel's thread: no task to wait for.
        do throws(NetStoreError) {
            if let cached = try vfs.cachedLookup(parent: parent, name: name) {
                FUSERequest(raw: req!).entry(cached, timeout: timeout)
                return
            }
        } catch {
            let request = FUSERequest(raw: req!)
            if error.code == .noEntry { request.negativeEntry(timeout: timeout) } else { request.fail(error) }
            return
        }
        serve(req, "lookup") { [vfs, timeout] request throws(NetStoreError) in
            do throws(NetStoreError) {
                request.entry(try await vfs.lookup(parent: parent, name: name), timeout: timeout)
            } catch where error.code == .noEntry {
                request.negativeEntry(timeout: timeout)
            }
        }
    }

    func getattr(_ req: fuse_req_t?, _ inode: fuse_ino_t) {
        if let cached = vfs.cachedGetattr(inode) {
            FUSERequest(raw: req!).attributes(cached, timeout: timeout)
            return
        }
        serve(req, "getattr") { [vfs, timeout] request throws(NetStoreError) in
            request.attributes(try await vfs.getattr(inode), timeout: timeout)
        }
    }

    func setattr(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ attr: Glibc.stat, _ toSet: Int32) {
        var changes = SetAttributes()
        if toSet & SetMask.mode != 0 { changes.mode = UInt32(attr.st_mode) & 0o7777 }
        if toSet & SetMask.uid != 0 { changes.uid = UInt32(attr.st_uid) }
        if toSet & SetMask.gid != 0 { changes.gid = UInt32(attr.st_gid) }
        if toSet & SetMask.size != 0 { changes.size = UInt64(max(0, attr.st_size)) }
        if toSet & SetMask.atimeNow != 0 {
            changes.atime = .now
        } else if toSet & SetMask.atime != 0 {
            changes.atime = .nanoseconds(FUSEReplies.nanoseconds(attr.st_atim))
        }
        if toSet & SetMask.mtimeNow != 0 {
            changes.mtime = .now
        } else if toSet & SetMask.mtime != 0 {
            changes.mtime = .nanoseconds(FUSEReplies.nanoseconds(attr.st_mtim))
        }
        serve(req, "setattr") { [vfs, timeout, changes] request throws(NetStoreError) in
            request.attributes(try await vfs.setattr(inode, changes), timeout: timeout)
        }
    }

    func readlink(_ req: fuse_req_t?, _ inode: fuse_ino_t) {
        serve(req, "readlink") { [vfs] request throws(NetStoreError) in
            let target = try await vfs.readlink(inode)
            fuse_reply_readlink(request.raw, target)
        }
    }

    /// `rdev` arrives in the kernel's 32-bit device encoding, which equals glibc's
    /// makedev for every number it can carry (major < 4096, minor < 2^20).
    func mknod(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String, _ mode: mode_t, _ rdev: dev_t) {
        let kind: NodeKind
        switch UInt32(mode) & UInt32(Glibc.S_IFMT) {
        case UInt32(Glibc.S_IFREG): kind = .file
        case UInt32(Glibc.S_IFIFO): kind = .fifo
        case UInt32(Glibc.S_IFSOCK): kind = .socket
        case UInt32(Glibc.S_IFCHR): kind = .characterDevice
        case UInt32(Glibc.S_IFBLK): kind = .blockDevice
        default:
            FUSERequest(raw: req!).fail(errno: EPERM)
            return
        }
        serve(req, "mknod") { [vfs, timeout] request throws(NetStoreError) in
            request.entry(try await vfs.mknod(
                parent: parent, name: name, kind: kind, mode: UInt32(mode), rdev: UInt64(rdev), context: request.context),
                timeout: timeout)
        }
    }

    func mkdir(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String, _ mode: mode_t) {
        serve(req, "mkdir") { [vfs, timeout] request throws(NetStoreError) in
            request.entry(try await vfs.mkdir(parent: parent, name: name, mode: UInt32(mode), context: request.context), timeout: timeout)
        }
    }

    func symlink(_ req: fuse_req_t?, _ target: String, _ parent: fuse_ino_t, _ name: String) {
        serve(req, "symlink") { [vfs, timeout] request throws(NetStoreError) in
            request.entry(try await vfs.symlink(parent: parent, name: name, target: target, context: request.context), timeout: timeout)
        }
    }

    func link(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ newParent: fuse_ino_t, _ newName: String) {
        serve(req, "link") { [vfs, timeout] request throws(NetStoreError) in
            request.entry(try await vfs.link(inode, newParent: newParent, newName: newName), timeout: timeout)
        }
    }

    func unlink(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String) {
        serve(req, "unlink") { [vfs] request throws(NetStoreError) in
            try await vfs.unlink(parent: parent, name: name)
            request.ok()
        }
    }

    func rmdir(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String) {
        serve(req, "rmdir") { [vfs] request throws(NetStoreError) in
            try await vfs.rmdir(parent: parent, name: name)
            request.ok()
        }
    }

    func rename(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String, _ newParent: fuse_ino_t, _ newName: String, _ flags: UInt32) {
        // RENAME_NOREPLACE (1) and RENAME_EXCHANGE (2); RENAME_WHITEOUT is for overlay file systems.
        guard flags & ~3 == 0 else {
            FUSERequest(raw: req!).fail(errno: EINVAL)
            return
        }
        serve(req, "rename") { [vfs] request throws(NetStoreError) in
            try await vfs.rename(parent: parent, name: name, newParent: newParent, newName: newName,
                                 flags: RenameFlags(rawValue: flags))
            request.ok()
        }
    }

    func statfs(_ req: fuse_req_t?) {
        serve(req, "statfs") { [vfs] request throws(NetStoreError) in
            let stats = try await vfs.statfs()
            var info = statvfs()
            let unit = UInt64(max(1, stats.blockSize))
            info.f_bsize = UInt(unit)
            info.f_frsize = UInt(unit)
            info.f_blocks = fsblkcnt_t(stats.totalBytes / unit)
            info.f_bfree = fsblkcnt_t(stats.freeBytes / unit)
            info.f_bavail = fsblkcnt_t(stats.availableBytes / unit)
            info.f_files = fsfilcnt_t(stats.totalFiles)
            info.f_ffree = fsfilcnt_t(stats.freeFiles)
            info.f_favail = fsfilcnt_t(stats.freeFiles)
            info.f_namemax = UInt(stats.maxNameLength)
            fuse_reply_statfs(request.raw, &info)
        }
    }

    func access(_ req: fuse_req_t?, _ inode: fuse_ino_t) {
        serve(req, "access") { [vfs] request throws(NetStoreError) in
            try await vfs.access(inode)
            request.ok()
        }
    }
}

/// FUSE_SET_ATTR_* (fuse_lowlevel.h).
enum SetMask {
    static let mode: Int32 = 1 << 0
    static let uid: Int32 = 1 << 1
    static let gid: Int32 = 1 << 2
    static let size: Int32 = 1 << 3
    static let atime: Int32 = 1 << 4
    static let mtime: Int32 = 1 << 5
    static let atimeNow: Int32 = 1 << 7
    static let mtimeNow: Int32 = 1 << 8
}
