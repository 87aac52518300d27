#if canImport(Glibc)
import Glibc

/// Loops over POSIX calls that may do only part of what was asked.
public enum Descriptor {
    /// Writes all of `bytes`, going on after an interruption or a short write:
    /// at `offset` (pwrite), or at the file's position when nil. 0, or the
    /// errno that stopped it.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64? = nil) -> Int32 {
        var done = 0
        while done < bytes.count {
            let start = bytes.baseAddress! + done
            let written = offset.map { pwrite(fd, start, bytes.count - done, off_t($0) + off_t(done)) }
                ?? write(fd, start, bytes.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if written == 0 { return EIO }
            done += written
        }
        return 0
    }

    /// Reads into `buffer` until it is full or the file ends, going on after an
    /// interruption or a short read: from `offset` (pread), or from the file's
    /// position when nil. How many bytes were read, and 0 or the errno that
    /// stopped it (the bytes read before it are in `buffer`).
    public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                                 at offset: UInt64? = nil) -> (count: Int, error: Int32) {
        var done = 0
        while done < buffer.count {
            let start = buffer.baseAddress! + done
            let got = offset.map { pread(fd, start, buffer.count - done, off_t($0) + off_t(done)) }
                ?? read(fd, start, buffer.count - done)
            if got < 0 {
                if errno == EINTR { continue }
                return (done, errno)
            }
            if got == 0 { break }
            done += got
        }
        return (done, 0)
    }
}
#endif
