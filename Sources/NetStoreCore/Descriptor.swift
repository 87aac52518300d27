#if canImport(Glibc)
import Glibc

/// Loops over POSIX calls that may do only part of what was asked.
public enum Descriptor {
    /// Writes all of `bytes` at the file's offset, going on after an
    /// interruption or a short write; 0, or the errno that stopped it.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if written == 0 { return EIO }
            offset += written
        }
        return 0
    }
}
#endif
