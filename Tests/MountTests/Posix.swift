import Foundation
import NetStoreTestSupport

/// Thin POSIX calls for the tests: each returns 0 or the errno it failed with.
enum Posix {
    static func check(_ result: Int32) -> Int32 { result < 0 ? errno : 0 }

    static func write(_ path: String, _ bytes: [UInt8], at offset: Int = 0, flags: Int32 = O_WRONLY | O_CREAT | O_TRUNC, mode: mode_t = 0o644) -> Int32 {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { return errno }
        var error: Int32 = 0
        if !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 { error = errno } else if n != bytes.count { error = EIO }
        }
        if Glibc.close(fd) != 0, error == 0 { error = errno }
        return error
    }

    static func append(_ path: String, _ bytes: [UInt8]) -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let error = n < 0 ? errno : 0
        if Glibc.close(fd) != 0, error == 0 { return errno }
        return error
    }

    /// The whole file, or the errno.
    static func read(_ path: String) -> Result<[UInt8], Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        defer { Glibc.close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return .failure(Errno(errno)) }
            if n == 0 { return .success(out) }
            out += chunk[0..<n]
        }
    }

    static func pread(_ path: String, offset: Int, count: Int) -> Result<[UInt8], Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
        if n < 0 { return .failure(Errno(errno)) }
        return .success(Array(bytes[0..<n]))
    }

    static func stat(_ path: String, follow: Bool = false) -> Result<Glibc.stat, Errno> {
        var info = Glibc.stat()
        let result = fstatat(AT_FDCWD, path, &info, follow ? 0 : AT_SYMLINK_NOFOLLOW)
        return result == 0 ? .success(info) : .failure(Errno(errno))
    }

    static func list(_ path: String) -> Result<[String], Errno> {
        guard let dir = opendir(path) else { return .failure(Errno(errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted())
    }

    static func readlink(_ path: String) -> Result<String, Errno> {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = Glibc.readlink(path, &buffer, buffer.count)
        if n < 0 { return .failure(Errno(errno)) }
        return .success(String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

struct Errno: Error, Equatable, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { "errno \(code) (\(String(cString: strerror(code))))" }
}

/// Seeded pseudo-random numbers (xorshift), so a failing sequence can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
