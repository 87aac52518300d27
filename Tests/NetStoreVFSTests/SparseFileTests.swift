import Foundation
@testable import NetStoreVFS
import Testing

/// An open file's write-back area: whole pages go past the page cache, the
/// rest through it, and reads see every write either way.
@Suite("The write-back file")
struct SparseFileTests {
    @Test("whole-page writes (direct) and unaligned ones (cached) over each other read back as one file, aligned or not")
    func mixedWrites() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparse-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = SparseFile(directory: directory.path)
        var model = [UInt8]()
        var random = SystemRandomNumberGenerator()
        func write(_ count: Int, at offset: Int) throws {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            try file.write(bytes, at: UInt64(offset))
            if model.count < offset + count { model += [UInt8](repeating: 0, count: offset + count - model.count) }
            model.replaceSubrange(offset..<offset + count, with: bytes)
        }
        try write(1 << 20, at: 0)               // whole pages: direct
        try write(5000, at: 4096 * 3 + 7)        // inside them, unaligned: cached
        try write(256 << 10, at: 1 << 20)        // appended whole pages
        try write(100, at: (1 << 20) + (256 << 10) + 50)  // past the end, leaving a hole
        try write(128 << 10, at: 64 << 10)       // whole pages over the cached write
        for (offset, count) in [(0, 1 << 20), (4096, 64 << 10), (13, 70_000), (1 << 20, 256 << 10), ((1 << 20) + (256 << 10), 4096), (0, model.count + 9000)] {
            let expected = (0..<count).map { offset + $0 < model.count ? model[offset + $0] : 0 }
            #expect(try file.read(count: count, at: UInt64(offset)) == expected, "\(count) bytes at \(offset)")
        }
        try file.truncate(to: 70_000)
        #expect(try file.read(count: 1 << 20, at: 0) == Array(model[..<70_000]) + [UInt8](repeating: 0, count: (1 << 20) - 70_000))
    }
}
