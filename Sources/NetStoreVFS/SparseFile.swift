#if canImport(Glibc)
import Glibc
#endif
import NetStoreCore
import Synchronization

/// An open file's local write-back area. Up to `memoryLimit` bytes it is a
/// buffer in memory (a small file then costs no file to create, write, read
/// and close); past that it moves to an unnamed sparse file in the cache
/// directory (O_TMPFILE), so that it takes disk only where written, holds files
/// larger than memory, and disappears by itself if the mount dies.
///
/// The file goes through the page cache. Its blocks are read back for upload
/// soon after they are written and the file is gone once committed, so while
/// memory allows its pages never reach the disk; with `O_DIRECT` every block
/// was written to the disk and read back from it, which a disk shared with the
/// servers paid for (a 1 GiB `dd` 73-79 MiB/s, against 94-98 through the cache
/// for about 0.5 s more of the mount's CPU).
final class SparseFile: Sendable {
    private enum Storage {
        case memory([UInt8])
        case disk(Int32)
    }

    private let directory: String
    private let memoryLimit: UInt64
    private let storage = Mutex(Storage.memory([]))

    init(directory: String, memoryLimit: Int = Limits.inlineContentLimit) {
        self.directory = directory
        self.memoryLimit = UInt64(memoryLimit)
    }

    deinit {
        if case .disk(let descriptor) = storage.withLock({ $0 }) { close(descriptor) }
    }

    /// Reads `count` bytes at `offset`; bytes past the end of the file read as zeros.
    func read(count: Int, at offset: UInt64) throws(NetStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let onDisk = storage.withLock { storage -> Int32? in
            switch storage {
            case .disk(let descriptor):
                return descriptor
            case .memory(let buffer):
                if offset < UInt64(buffer.count) {
                    let start = Int(offset)
                    let end = min(buffer.count, start + count)
                    bytes.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                }
                return nil
            }
        }
        guard let descriptor = onDisk else { return bytes }
        let failed = bytes.withUnsafeMutableBytes { raw -> NetStoreError? in
            do throws(NetStoreError) { _ = try Self.read(into: raw, at: offset, from: descriptor) } catch { return error }
            return nil
        }
        if let failed { throw failed }
        return bytes
    }

    /// Reads into `raw` from `offset` until it is full or the file ends; how many bytes were read.
    private static func read(into raw: UnsafeMutableRawBufferPointer, at offset: UInt64, from descriptor: Int32) throws(NetStoreError) -> Int {
        let (count, failure) = Descriptor.readFully(descriptor, into: raw, at: offset)
        if failure != 0 { throw Self.error("read the write-back file", errno: failure) }
        return count
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(NetStoreError) {
        let end = offset + UInt64(bytes.count)
        let descriptor = try storage.withLock { storage throws(NetStoreError) -> Int32 in
            switch storage {
            case .disk(let descriptor):
                return descriptor
            case .memory(var buffer) where end <= memoryLimit:
                storage = .memory([])  // keeps `buffer` unique while it changes
                if buffer.count < Int(end) { buffer += [UInt8](repeating: 0, count: Int(end) - buffer.count) }
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.advanced(by: Int(offset)).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                }
                storage = .memory(buffer)
                return -1
            case .memory(let buffer):
                let descriptor = try Self.spill(buffer, into: directory)
                storage = .disk(descriptor)
                return descriptor
            }
        }
        guard descriptor >= 0 else { return }
        try Self.write(bytes, at: offset, to: descriptor)
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws(NetStoreError) {
        let failed = bytes.withUnsafeBytes { raw -> NetStoreError? in
            do throws(NetStoreError) { try write(raw, at: offset) } catch { return error }
            return nil
        }
        if let failed { throw failed }
    }

    func truncate(to size: UInt64) throws(NetStoreError) {
        let descriptor = storage.withLock { storage -> Int32 in
            switch storage {
            case .disk(let descriptor):
                return descriptor
            case .memory(var buffer):
                // Past the buffer's end reads as zeros already: only shortening changes it.
                if UInt64(buffer.count) > size {
                    storage = .memory([])
                    buffer.removeSubrange(Int(size)...)
                    storage = .memory(buffer)
                }
                return -1
            }
        }
        guard descriptor >= 0 else { return }
        if ftruncate(descriptor, off_t(size)) != 0 { throw Self.error("truncate the write-back file") }
    }

    /// A new unnamed file in `directory` holding `buffer`.
    private static func spill(_ buffer: [UInt8], into directory: String) throws(NetStoreError) -> Int32 {
        // O_TMPFILE (Linux, __O_TMPFILE | O_DIRECTORY): Glibc's module does not export it.
        let temporaryFile: Int32 = 0o20_000_000 | O_DIRECTORY
        var fd = open(directory, temporaryFile | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            // File systems without O_TMPFILE: a named file, unlinked at once.
            var template = Array("\(directory)/writeback-XXXXXX".utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        }
        guard fd >= 0 else { throw error("create a write-back file in \(directory)") }
        let failed = buffer.withUnsafeBytes { raw -> NetStoreError? in
            do throws(NetStoreError) { try write(raw, at: 0, to: fd) } catch { return error }
            return nil
        }
        if let failed {
            close(fd)
            throw failed
        }
        return fd
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64, to descriptor: Int32) throws(NetStoreError) {
        let code = Descriptor.writeAll(descriptor, bytes, at: offset)
        if code != 0 { throw error("write the write-back file", errno: code) }
    }

    private static func error(_ what: String, errno code: Int32 = errno) -> NetStoreError {
        let message = "cannot \(what): \(String(cString: strerror(code)))"
        return NetStoreError(code == ENOSPC ? .noSpace : .io, message)
    }
}
