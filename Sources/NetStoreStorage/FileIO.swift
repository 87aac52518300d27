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

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(NetStoreError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw error(errno, "write \(path)")
            }
            offset += written
        }
    }

    /// Writes `bytes` to the empty file `fd` from its start, the whole pages
    /// with O_DIRECT: the disk reads them from our buffer, so they are not copied
    /// into the page cache (the copy cost more CPU than anything else a server
    /// does with a large block), nor left there dirty for fsync to find. The
    /// tail, less than a page, is written through the cache. A file system that
    /// refuses O_DIRECT gets every byte through the cache.
    static func writeBypassingCache(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(NetStoreError) {
        let whole = bytes.count / DirectIO.alignment * DirectIO.alignment
        let flags = fcntl(fd, F_GETFL)
        guard whole > 0, DirectIO.flag != 0, flags >= 0, fcntl(fd, F_SETFL, flags | DirectIO.flag) == 0 else {
            return try writeAll(fd, bytes, path: path)
        }
        let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: whole, alignment: DirectIO.alignment)
        defer { aligned.deallocate() }
        aligned.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<whole]))
        var direct: NetStoreError?
        do throws(NetStoreError) {
            try writeAll(fd, UnsafeRawBufferPointer(aligned), path: path)
        } catch {
            direct = error
        }
        _ = fcntl(fd, F_SETFL, flags)
        if let direct {
            // EINVAL: this file system takes no direct writes after all; write it all again through the cache.
            guard case .io = direct.code, lseek(fd, 0, SEEK_SET) == 0 else { throw direct }
            return try writeAll(fd, bytes, path: path)
        }
        try writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[whole...]), path: path)
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
        var out = [UInt8](repeating: 0, count: size)
        var offset = 0
        var failure: Int32 = 0
        out.withUnsafeMutableBytes { buffer in
            while offset < size {
                let got = read(fd, buffer.baseAddress! + offset, size - offset)
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if got == 0 { break }
                offset += got
            }
        }
        if failure != 0 { throw error(failure, "read \(path)") }
        if offset < size { out.removeSubrange(offset...) }
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
