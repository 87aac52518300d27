#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NetStoreCore

/// A local file opened by descriptor, read and written at explicit offsets, so
/// that uploads and downloads stream through a bounded buffer whatever the size.
/// Owned by one task at a time.
final class LocalFile {
    let path: String
    private(set) var descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens an existing file for reading.
    init(readingAt path: String) throws(NetStoreError) {
        self.path = path
        self.descriptor = open(path, O_RDONLY | O_CLOEXEC)
        self.ownsDescriptor = true
        if descriptor < 0 { throw Self.error(path) }
    }

    /// Creates a new file (failing if it exists) for writing, readable only by its owner until chmod.
    init(creatingAt path: String) throws(NetStoreError) {
        self.path = path
        self.descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        self.ownsDescriptor = true
        if descriptor < 0 { throw Self.error(path) }
    }

    /// Wraps a descriptor this object does not close (standard output).
    init(descriptor: Int32, name: String) {
        self.path = name
        self.descriptor = descriptor
        self.ownsDescriptor = false
    }

    deinit { close() }

    func close() {
        if ownsDescriptor, descriptor >= 0 { _ = systemClose(descriptor) }
        descriptor = -1
    }

    struct Status {
        var size: UInt64
        var mode: UInt32
        var isRegular: Bool
        var isDirectory: Bool
    }

    func status() throws(NetStoreError) -> Status {
        var info = stat()
        if fstat(descriptor, &info) != 0 { throw Self.error(path) }
        let type = UInt32(info.st_mode) & UInt32(S_IFMT)
        return Status(
            size: UInt64(info.st_size), mode: UInt32(info.st_mode) & 0o7777,
            isRegular: type == UInt32(S_IFREG), isDirectory: type == UInt32(S_IFDIR))
    }

    /// Exactly `count` bytes from `offset`; a file that ends sooner has changed under us.
    func read(count: Int, at offset: UInt64, allocator: ByteBufferAllocator) throws(NetStoreError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: count)
        var failure: Int32 = 0
        let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw -> Int in
            let (read, error) = Descriptor.readFully(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<count]), at: offset)
            failure = error
            return read
        }
        if failure != 0 { throw Self.error(path, errno: failure) }
        if got < count {
            throw NetStoreError(.io, "\(path): the file shrank while it was being read: try again")
        }
        return buffer
    }

    /// Writes all of `bytes` at `offset`, or at the current position when `offset` is nil.
    func write(_ bytes: ByteBuffer, at offset: UInt64?) throws(NetStoreError) {
        let code = bytes.withUnsafeReadableBytes { Descriptor.writeAll(descriptor, $0, at: offset) }
        if code != 0 { throw Self.error(path, errno: code) }
    }

    func truncate(to size: UInt64) throws(NetStoreError) {
        if ftruncate(descriptor, off_t(size)) != 0 { throw Self.error(path) }
    }

    func setMode(_ mode: UInt32) throws(NetStoreError) {
        if fchmod(descriptor, mode_t(mode)) != 0 { throw Self.error(path) }
    }

    func sync() throws(NetStoreError) {
        if fsync(descriptor) != 0 { throw Self.error(path) }
    }

    /// The current errno as an error about `path`.
    static func error(_ path: String, errno code: Int32 = errno) -> NetStoreError {
        let text = String(cString: strerror(code)).lowercased()
        return NetStoreError(ErrorCode(rawValue: UInt16(clamping: code)) ?? .io, "\(path): \(text)")
    }
}

// The class's own names (read, write, close) hide the C functions inside it.
private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
