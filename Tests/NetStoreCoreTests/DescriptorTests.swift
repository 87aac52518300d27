#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetStoreCore
import Testing

/// The loops over write and read: everything asked for is done, unless the
/// file ends or the call fails, which the caller is told.
@Suite struct DescriptorTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> (path: String, cleanup: () -> Void) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("descriptor-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, { try? FileManager.default.removeItem(atPath: path) })
    }

    @Test func readFullyReadsWhatIsThereFromAnOffsetOrThePosition() throws {
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        let (path, cleanup) = try Self.temporaryFile(bytes)
        defer { cleanup() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 200_000)
        // From an offset: all of it.
        let middle = buffer.withUnsafeMutableBytes { Descriptor.readFully(fd, into: $0, at: 50_000) }
        #expect(middle.count == 200_000 && middle.error == 0)
        #expect(buffer == Array(bytes[50_000..<250_000]))
        // Past the end: what there is.
        let tail = buffer.withUnsafeMutableBytes { Descriptor.readFully(fd, into: $0, at: 250_000) }
        #expect(tail.count == 50_000 && tail.error == 0)
        #expect(Array(buffer[..<50_000]) == Array(bytes[250_000...]))
        // From the position, which pread left at 0: then on from where it stopped.
        let first = buffer.withUnsafeMutableBytes { Descriptor.readFully(fd, into: $0) }
        #expect(first.count == 200_000 && buffer == Array(bytes[..<200_000]))
        let rest = buffer.withUnsafeMutableBytes { Descriptor.readFully(fd, into: $0) }
        #expect(rest.count == 100_000 && Array(buffer[..<100_000]) == Array(bytes[200_000...]))
    }

    @Test func failuresAreReturned() throws {
        var buffer = [UInt8](repeating: 0, count: 10)
        #expect(buffer.withUnsafeMutableBytes { Descriptor.readFully(-1, into: $0, at: 0) } == (0, EBADF))
        #expect(buffer.withUnsafeMutableBytes { Descriptor.readFully(-1, into: $0) } == (0, EBADF))
        #expect(buffer.withUnsafeBytes { Descriptor.writeAll(-1, $0) } == EBADF)
        #expect(buffer.withUnsafeBytes { Descriptor.writeAll(-1, $0, at: 0) } == EBADF)
        let (path, cleanup) = try Self.temporaryFile([])
        defer { cleanup() }
        let readOnly = open(path, O_RDONLY | O_CLOEXEC)
        try #require(readOnly >= 0)
        defer { close(readOnly) }
        #expect(buffer.withUnsafeBytes { Descriptor.writeAll(readOnly, $0) } == EBADF)
    }

    @Test func writeAllWritesEverything() throws {
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (path, cleanup) = try Self.temporaryFile([])
        defer { cleanup() }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0)
        let code = bytes.withUnsafeBytes { Descriptor.writeAll(fd, $0) }
        // At an offset: those bytes replaced, the position left where it was.
        let patch = [UInt8](repeating: 0xAB, count: 70_000)
        let patched = patch.withUnsafeBytes { Descriptor.writeAll(fd, $0, at: 1_000_000) }
        let position = lseek(fd, 0, SEEK_CUR)
        close(fd)
        #expect(code == 0 && patched == 0)
        #expect(position == off_t(bytes.count))
        var expected = bytes
        expected.replaceSubrange(1_000_000..<1_070_000, with: patch)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(expected))
    }
}
