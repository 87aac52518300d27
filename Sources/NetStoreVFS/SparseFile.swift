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
final class SparseFile: Sendable {
    private enum Storage {
        case memory([UInt8])
        /// The file, and a second descriptor of it opened with O_DIRECT (-1 if
        /// the file system refuses it) for whole pages.
        case disk(Int32, direct: Int32)
    }

    private let directory: String
    private let memoryLimit: UInt64
    private let storage = Mutex(Storage.memory([]))

    init(directory: String, memoryLimit: Int = Limits.inlineContentLimit) {
        self.directory = directory
        self.memoryLimit = UInt64(memoryLimit)
    }

    deinit {
        if case .disk(let descriptor, let direct) = storage.withLock({ $0 }) {
            close(descriptor)
            if direct >= 0 { close(direct) }
        }
    }

    /// Reads `count` bytes at `offset`; bytes past the end of the file read as zeros.
    func read(count: Int, at offset: UInt64) throws(NetStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let descriptors = storage.withLock { storage -> (Int32, direct: Int32)? in
            switch storage {
            case .disk(let descriptor, let direct):
                return (descriptor, direct)
            case .memory(let buffer):
                if offset < UInt64(buffer.count) {
                    let start = Int(offset)
                    let end = min(buffer.count, start + count)
                    bytes.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                }
                return nil
            }
        }
        guard let (descriptor, direct) = descriptors else { return bytes }
        if direct >= 0, Self.isWholePages(offset: offset, count: count), Self.readDirect(into: &bytes, at: offset, from: direct) {
            return bytes
        }
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
        let (descriptor, direct) = try storage.withLock { storage throws(NetStoreError) -> (Int32, Int32) in
            switch storage {
            case .disk(let descriptor, let direct):
                return (descriptor, direct)
            case .memory(var buffer) where end <= memoryLimit:
                storage = .memory([])  // keeps `buffer` unique while it changes
                if buffer.count < Int(end) { buffer += [UInt8](repeating: 0, count: Int(end) - buffer.count) }
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.advanced(by: Int(offset)).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                }
                storage = .memory(buffer)
                return (-1, -1)
            case .memory(let buffer):
                let descriptor = try Self.spill(buffer, into: directory)
                let direct = DirectIO.flag == 0 ? -1 : open("/proc/self/fd/\(descriptor)", O_RDWR | O_CLOEXEC | DirectIO.flag)
                storage = .disk(descriptor, direct: direct)
                return (descriptor, direct)
            }
        }
        guard descriptor >= 0 else { return }
        if direct >= 0, Self.isWholePages(offset: offset, count: bytes.count), Self.writeDirect(bytes, at: offset, to: direct) { return }
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
            case .disk(let descriptor, _):
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

    // MARK: whole pages past the page cache

    private static let page = DirectIO.alignment
    /// Below this, a write or read goes through the page cache (a copy costs less than waiting for the disk).
    private static let directMinimum = 64 << 10

    private static func isWholePages(offset: UInt64, count: Int) -> Bool {
        DirectIO.flag != 0 && count >= directMinimum && offset % UInt64(page) == 0 && count % page == 0
    }

    /// Writes whole pages with O_DIRECT, from an aligned copy: a large
    /// sequential write (a 1 GiB `dd`) otherwise spent more of the mount's CPU
    /// copying into the page cache than on anything else. False if refused
    /// (nothing written then: the caller writes through the cache).
    private static func writeDirect(_ bytes: UnsafeRawBufferPointer, at offset: UInt64, to direct: Int32) -> Bool {
        DirectIO.withAlignedBuffer(count: bytes.count) { aligned in
            aligned.copyMemory(from: bytes)
            return (try? write(UnsafeRawBufferPointer(aligned), at: offset, to: direct)) != nil
        }
    }

    /// Reads whole pages with O_DIRECT into `bytes` (zeros past the end of the
    /// file stay zeros); false if refused (the caller reads through the cache).
    private static func readDirect(into bytes: inout [UInt8], at offset: UInt64, from direct: Int32) -> Bool {
        DirectIO.withAlignedBuffer(count: bytes.count) { aligned in
            guard let done = try? read(into: aligned, at: offset, from: direct) else { return false }
            bytes.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: aligned.baseAddress!, byteCount: done) }
            return true
        }
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
