import Foundation
import NetStoreCore
import NetStoreStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A full disk needs a small file system: a tmpfs, which only root can mount.
private let canMountTmpfs: Bool = {
    #if os(Linux)
    guard getuid() == 0 else { return false }
    let probe = StoreFixture.temporaryDirectory()
    try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: probe) }
    guard mount("tmpfs", probe.path, "tmpfs", 0, "size=1m") == 0 else { return false }
    return umount2(probe.path, 0) == 0
    #else
    return false
    #endif
}()

@Suite("Full disk")
struct NoSpaceTests {
    #if os(Linux)
    @Test("a full disk gives ENOSPC and leaves no half-written block", .enabled(if: canMountTmpfs))
    func fullDisk() throws {
        let mountPoint = StoreFixture.temporaryDirectory()
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try #require(mount("tmpfs", mountPoint.path, "tmpfs", 0, "size=3m") == 0)
        defer {
            // Detached: a file the store still holds open must not leave the mount behind.
            _ = umount2(mountPoint.path, Int32(MNT_DETACH))
            try? FileManager.default.removeItem(at: mountPoint)
        }
        let directory = mountPoint.appendingPathComponent("store")
        try {
            let fixture = try StoreFixture(directory: directory)
            var stored: [BlockID: [UInt8]] = [:]
            var failure: NetStoreError?
            for seed in 0 ..< 20 {
                let bytes = pattern(Limits.blockSize, seed: seed)
                do {
                    stored[try fixture.putBlock(bytes)] = bytes
                } catch let error as NetStoreError {
                    failure = error
                    break
                }
            }
            let error = try #require(failure)
            #expect(error.code == .noSpace, "\(error)")
            #expect(error.message.contains("free space"))
            #expect(!stored.isEmpty)
            // Nothing half-written: no temporary file, and every block file verifies.
            let tmp = directory.appendingPathComponent("blocks/tmp").path
            #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
            let files = fixture.blockFiles()
            #expect(files.count >= stored.count)
            for file in files {
                let bytes = try #require(FileManager.default.contents(atPath: directory.appendingPathComponent("blocks/\(file)").path))
                #expect(BlockStore.id(of: [UInt8](bytes)).hex == file.split(separator: "/").last.map(String.init))
            }
            for (id, bytes) in stored {
                #expect(try fixture.store.getBlock(id) == bytes)
            }
        }()
    }
    #endif
}
