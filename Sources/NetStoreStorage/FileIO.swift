#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NetStoreCore

/// Thin wrappers over the POSIX calls the block store needs, turning errno into
/// `NetStoreError` with a message that names the path.
enum FileIO {
    static func error(_ code: Int32, _ what: String) -> NetStoreError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT:
            return NetStoreError(.noSpace, "no space left to \(what) (\(reason)): free space on the data disk and retry")
        case ENOENT:
            return NetStoreError(.noEntry, "cannot \(what): \(reason)")
        case EROFS:
            return NetStoreError(.readOnly, "cannot \(what): the data disk is read-only")
        default:
            return NetStoreError(.io, "cannot \(what): \(reason)")
        }
    }

    /// Creates a directory; an existing one is fine. Returns true if it was created.
    @discardableResult
    static func makeDirectory(_ path: String) throws(NetStoreError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        let code = errno
        if code == EEXIST { return false }
        throw error(code, "create directory \(path)")
    }

    /// Makes a directory's entries (a created, renamed or removed file) durable.
    static func syncDirectory(_ path: String) throws(NetStoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw error(errno, "open directory \(path) to sync it") }
        defer { close(fd) }
        if fsync(fd) != 0 { throw error(errno, "sync directory \(path)") }
    }

    /// Writes a new block file's bytes, the whole pages past the page cache
    /// (`DirectIO.writeNewFile`: the page-cache copy cost more CPU than anything
    /// else a server does with a large block).
    static func writeBypassingCache(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(NetStoreError) {
        let code = DirectIO.writeNewFile(fd, bytes)
        if code != 0 { throw error(code, "write \(path)") }
    }

    /// Reads a whole file of at most `limit` bytes; nil if it is larger.
    static func readAll(_ path: String, limit: Int) throws(NetStoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw error(errno, "open \(path)") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw error(errno, "stat \(path)") }
        let size = Int(info.st_size)
        if size > limit { return nil }
        var failure: Int32 = 0
        // Uninitialized: zeroing a block's worth first cost as much as a copy.
        let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            (initialized, failure) = Descriptor.readFully(fd, into: UnsafeMutableRawBufferPointer(buffer))
        }
        if failure != 0 { throw error(failure, "read \(path)") }
        return out
    }

    /// The size of a regular file, or nil if there is none at `path`.
    static func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Removes a file; a missing one is fine.
    static func removeFile(_ path: String) throws(NetStoreError) {
        if unlink(path) == 0 || errno == ENOENT { return }
        throw error(errno, "remove \(path)")
    }
}
