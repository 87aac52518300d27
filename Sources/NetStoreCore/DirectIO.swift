import Synchronization

/// What writing and reading past the page cache (O_DIRECT) takes on Linux.
public enum DirectIO {
    /// O_DIRECT, which Glibc's Swift module leaves out (it needs _GNU_SOURCE);
    /// 0 where unknown, and then nothing is written that way.
    public static let flag: Int32 = {
        #if os(Linux) && (arch(x86_64) || arch(i386))
        return 0o40000
        #elseif os(Linux) && (arch(arm64) || arch(arm))
        return 0o200000
        #else
        return 0
        #endif
    }()

    /// The alignment it asks of buffers, offsets and lengths: a page, which
    /// covers every logical block size a disk reports.
    public static let alignment = 4096

    /// Runs `body` with `count` bytes of page-aligned memory (uninitialized).
    ///
    /// Buffers up to a block are reused: a fresh one each time made malloc map
    /// new pages for every block, and the page faults and zeroing cost as much
    /// as the copy the buffer is for.
    public static func withAlignedBuffer<R, E: Error>(
        count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        guard count <= pooledSize else {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: alignment)
            defer { buffer.deallocate() }
            return try body(buffer)
        }
        let start = pool.withLock { $0.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            ?? UnsafeMutableRawPointer.allocate(byteCount: pooledSize, alignment: alignment)
        defer {
            let address = UInt(bitPattern: start)
            let kept = pool.withLock { free in
                guard free.count < pooledLimit else { return false }
                free.append(address)
                return true
            }
            if !kept { start.deallocate() }
        }
        return try body(UnsafeMutableRawBufferPointer(start: start, count: count))
    }

    private static let pooledSize = Limits.blockSize
    /// As many as a busy server has in use at once, about.
    private static let pooledLimit = 16
    /// Free buffers, by address (a pointer is not Sendable).
    private static let pool = Mutex<[UInt]>([])
}

#if canImport(Glibc)
import Glibc

extension DirectIO {
    /// Writes `bytes` to the empty file `fd` from its start, the whole pages
    /// with O_DIRECT: the disk reads them from an aligned copy, so they are not
    /// copied into the page cache (for a large block the costliest step of a
    /// write), nor left there dirty for a later fsync or the kernel's flusher.
    /// The tail, less than a page, goes through the cache. A file system that
    /// refuses O_DIRECT gets every byte through the cache.
    ///
    /// Returns 0, or the errno of the write that failed.
    public static func writeNewFile(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        let whole = bytes.count / alignment * alignment
        let flags = fcntl(fd, F_GETFL)
        guard whole > 0, flag != 0, flags >= 0, fcntl(fd, F_SETFL, flags | flag) == 0 else {
            return Descriptor.writeAll(fd, bytes)
        }
        let direct = withAlignedBuffer(count: whole) { aligned in
            aligned.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<whole]))
            return Descriptor.writeAll(fd, UnsafeRawBufferPointer(aligned))
        }
        _ = fcntl(fd, F_SETFL, flags)
        if direct != 0 {
            // EINVAL: this file system takes no direct writes after all; write it all again through the cache.
            guard direct == EINVAL, lseek(fd, 0, SEEK_SET) == 0 else { return direct }
            return Descriptor.writeAll(fd, bytes)
        }
        return Descriptor.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[whole...]))
    }
}
#endif
