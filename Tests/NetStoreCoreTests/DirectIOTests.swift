#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetStoreCore
import Testing

/// Writing past the page cache: the file holds exactly the bytes, whatever
/// their length, and the aligned buffers are aligned and reused safely.
@Suite struct DirectIOTests {
    static let sizes = [0, 1, 4095, 4096, 3 * 4096 + 17, 1 << 20, (1 << 20) + 5, (5 << 20) + 100]

    @Test(arguments: sizes) func newFileHoldsTheBytes(size: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("directio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("file").path
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        let code = bytes.withUnsafeBytes { DirectIO.writeNewFile(fd, $0) }
        // The descriptor is left as it was found: no O_DIRECT after the write.
        let flags = fcntl(fd, F_GETFL)
        close(fd)
        #expect(code == 0)
        #expect(flags & DirectIO.flag == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }

    @Test func writeFailureIsReturned() {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let bytes = [UInt8](repeating: 1, count: 8192)
        #expect(bytes.withUnsafeBytes { DirectIO.writeNewFile(fd, $0) } == EBADF)
    }

    @Test func alignedBuffersAreAlignedAndReused() async {
        let sizes = [1, 4096, 1 << 20, 3 << 20]
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<50 {
                        let count = sizes[(task + round) % sizes.count]
                        let fill = UInt8(truncatingIfNeeded: task * 50 + round)
                        DirectIO.withAlignedBuffer(count: count) { buffer in
                            #expect(buffer.count == count)
                            #expect(Int(bitPattern: buffer.baseAddress) % DirectIO.alignment == 0)
                            // No one else writes into a buffer while it is lent out.
                            buffer.initializeMemory(as: UInt8.self, repeating: fill)
                            #expect(buffer.allSatisfy { $0 == fill })
                        }
                    }
                }
            }
        }
    }
}
