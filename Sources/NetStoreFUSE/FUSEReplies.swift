import CFuse3
#if canImport(Glibc)
import Glibc
#endif
import NetStoreCore
import NetStoreVFS

/// A kernel request, handed to the task that answers it. libfuse allows a
/// reply from any thread; each request gets exactly one.
struct FUSERequest: @unchecked Sendable {
    let raw: fuse_req_t

    var context: RequestContext {
        let ctx = fuse_req_ctx(raw)!.pointee
        return RequestContext(uid: UInt32(ctx.uid), gid: UInt32(ctx.gid), pid: Int32(ctx.pid))
    }

    func fail(_ error: NetStoreError) {
        fuse_reply_err(raw, error.code.errno)
    }

    func fail(errno code: Int32) {
        fuse_reply_err(raw, code)
    }

    func ok() {
        fuse_reply_err(raw, 0)
    }

    func entry(_ attributes: NodeAttributes, timeout: Double) {
        var entry = FUSEReplies.entryParameter(attributes, timeout: timeout)
        fuse_reply_entry(raw, &entry)
    }

    /// ENOENT that the kernel may cache for `timeout` (a negative entry).
    func negativeEntry(timeout: Double) {
        var entry = fuse_entry_param()
        entry.ino = 0
        entry.entry_timeout = timeout
        fuse_reply_entry(raw, &entry)
    }

    func attributes(_ attributes: NodeAttributes, timeout: Double) {
        var info = FUSEReplies.stat(attributes)
        fuse_reply_attr(raw, &info, timeout)
    }

    func open(_ opened: NetStoreVFS.Opened) {
        var info = FUSEReplies.fileInfo(opened)
        fuse_reply_open(raw, &info)
    }

    func create(_ attributes: NodeAttributes, _ opened: NetStoreVFS.Opened, timeout: Double) {
        var entry = FUSEReplies.entryParameter(attributes, timeout: timeout)
        var info = FUSEReplies.fileInfo(opened)
        fuse_reply_create(raw, &entry, &info)
    }

    func bytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = fuse_reply_buf(self.raw, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    func written(_ count: Int) {
        fuse_reply_write(raw, count)
    }

    func none() {
        fuse_reply_none(raw)
    }
}

enum FUSEReplies {
    static func entryParameter(_ attributes: NodeAttributes, timeout: Double) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = fuse_ino_t(attributes.id)
        // Node ids are never reused, so one generation serves for ever.
        entry.generation = 0
        entry.attr = stat(attributes)
        entry.attr_timeout = timeout
        entry.entry_timeout = timeout
        return entry
    }

    static func fileInfo(_ opened: NetStoreVFS.Opened) -> fuse_file_info {
        var info = fuse_file_info()
        info.fh = opened.handle
        info.keep_cache = opened.keepCache ? 1 : 0
        return info
    }

    static func typeBits(_ kind: NodeKind) -> UInt32 {
        switch kind {
        case .file: UInt32(Glibc.S_IFREG)
        case .directory: UInt32(Glibc.S_IFDIR)
        case .symlink: UInt32(Glibc.S_IFLNK)
        case .fifo: UInt32(Glibc.S_IFIFO)
        case .socket: UInt32(Glibc.S_IFSOCK)
        case .characterDevice: UInt32(Glibc.S_IFCHR)
        case .blockDevice: UInt32(Glibc.S_IFBLK)
        }
    }

    static func stat(_ attributes: NodeAttributes) -> Glibc.stat {
        var info = Glibc.stat()
        info.st_ino = UInt(attributes.id)
        info.st_mode = mode_t(typeBits(attributes.kind) | (attributes.mode & 0o7777))
        info.st_nlink = UInt(attributes.nlink)
        info.st_uid = uid_t(attributes.uid)
        info.st_gid = gid_t(attributes.gid)
        info.st_rdev = dev_t(attributes.rdev)
        info.st_size = off_t(clamping: attributes.size)
        info.st_blksize = blksize_t(Limits.blockSize)
        info.st_blocks = blkcnt_t(clamping: (attributes.size + 511) / 512)
        info.st_atim = timespec(attributes.atimeNs)
        info.st_mtim = timespec(attributes.mtimeNs)
        info.st_ctim = timespec(attributes.ctimeNs)
        return info
    }

    static func timespec(_ nanoseconds: Int64) -> Glibc.timespec {
        var seconds = nanoseconds / 1_000_000_000
        var rest = nanoseconds % 1_000_000_000
        if rest < 0 {
            seconds -= 1
            rest += 1_000_000_000
        }
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(rest))
    }

    static func nanoseconds(_ time: Glibc.timespec) -> Int64 {
        Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
