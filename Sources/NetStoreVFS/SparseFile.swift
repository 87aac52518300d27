#if canImport(Glibc)
import Glibc
#endif
import NetStoreCore

/// An open file's local write-back area: an unnamed sparse file in the cache
/// directory (O_TMPFILE), so that it takes disk only where written, holds files
/// larger than memory, and disappears by itself if the mount dies.
final class SparseFile: Sendable {
    let descriptor: Int32

    init(directory: String) throws(NetStoreError) {
        // O_TMPFILE (Linux, __O_TMPFILE | O_DIRECTORY): Glibc's module does not export it.
        let temporaryFile: Int32 = 0o20_000_000 | O_DIRECTORY
        var fd = open(directory, temporaryFile | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            // File systems without O_TMPFILE: a named file, unlinked at once.
            var template = Array("\(directory)/writeback-XXXXXX".utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        }
        guard fd >= 0 else { throw Self.error("create a write-back file in \(directory)") }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads `count` bytes at `offset`; bytes past the end of the file read as zeros.
    func read(count: Int, at offset: UInt64) throws(NetStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("read the write-back file")
            }
            if n == 0 { break }
            done += n
        }
        return bytes
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(NetStoreError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("write the write-back file")
            }
            done += n
        }
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws(NetStoreError) {
        let failed = bytes.withUnsafeBytes { raw -> NetStoreError? in
            do throws(NetStoreError) { try write(raw, at: offset) } catch { return error }
            return nil
        }
        if let failed { throw failed }
    }

    func truncate(to size: UInt64) throws(NetStoreError) {
        if ftruncate(descriptor, off_t(size)) != 0 { throw Self.error("truncate the write-back file") }
    }

    private static func error(_ what: String) -> NetStoreError {
        let code = errno
        let message = "cannot \(what): \(String(cString: strerror(code)))"
        return NetStoreError(code == ENOSPC ? .noSpace : .io, message)
    }
}
