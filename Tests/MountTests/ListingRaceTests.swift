import Foundation
import NetStoreTestSupport
import Testing

/// A listing the server answers before a commit can reach the mount after the
/// commit's answer. What it says of the file (an older size) must not undo
/// the commit, neither in the mount nor in the kernel, which takes a
/// listing's attributes as the file's (readdirplus).
@Suite("Listings racing commits")
struct ListingRaceTests {
    @Test("while two threads list a directory, a file written and closed there shows its new size and content at once")
    func closeThenStatWhileListing() async throws {
        try await MountFixture.with { m in
            let directory = m.path("d")
            #expect(mkdir(directory, 0o755) == 0)
            let listers = treeWalkers(of: directory, threads: 2)
            var random = SeededRandom(seed: 11)
            var wrong: [String] = []
            let rounds = 600
            for round in 0..<rounds {
                let path = "\(directory)/f\(round % 40)"
                let bytes = random.bytes(Int(random.next() % 4000) + 1)
                #expect(Posix.write(path, bytes) == 0)
                let size = (try? Posix.stat(path).get()).map { Int($0.st_size) }
                let read = try? Posix.read(path).get()
                if size != bytes.count || read != bytes {
                    let readText = read.map { "\($0.count) bytes\($0 == bytes ? "" : ", not those written")" } ?? "failed"
                    wrong.append("f\(round % 40) in round \(round): wrote \(bytes.count) bytes, stat said \(size.map(String.init) ?? "failed"), read \(readText)")
                }
            }
            let listings = listers.stop()
            #expect(listings > 0, "the listers listed")
            #expect(wrong.isEmpty, "\(wrong.count) of \(rounds) closes not seen: \(wrong.prefix(5).joined(separator: "; "))")
        }
    }
}

/// An unlink of one name of a file with another (a hard link) changes the
/// file's link count on the server, and no answer to the unlink says so.
/// Answers about the file asked for before the server removed the name (a
/// listing of the other name's directory, a stat) must not show the old
/// count. In write-back mode the server removes it after the unlink returned.
@Suite("Unlinks racing listings")
struct UnlinkRaceTests {
    @Test("while two threads walk the tree, a file's other name shows one link less at once after an unlink",
          arguments: [["writeback"], []])
    func unlinkThenStatWhileListing(mountOptions: [String]) async throws {
        try await MountFixture.with(cluster: true, mountOptions: mountOptions) { m in
            #expect(mkdir(m.path("a"), 0o755) == 0 && mkdir(m.path("b"), 0o755) == 0)
            let walkers = treeWalkers(of: m.mountpoint, threads: 2)
            var wrong: [String] = []
            let rounds = 300
            for round in 0..<rounds {
                let (first, second) = (m.path("a/f\(round)"), m.path("b/f\(round)"))
                #expect(Posix.write(first, Array("round \(round)".utf8)) == 0)
                #expect(link(first, second) == 0, "link \(round): errno \(errno)")
                #expect(unlink(first) == 0)
                // Every other round a change to the file first: its answer tells the link count too.
                if round % 2 == 1 { #expect(chmod(second, 0o600) == 0) }
                let links = (try? Posix.stat(second).get()).map { Int($0.st_nlink) }
                if links != 1 { wrong.append("b/f\(round): \(links.map(String.init) ?? "stat failed") links") }
            }
            #expect(walkers.stop() > 0, "the walkers walked")
            #expect(wrong.isEmpty, "\(wrong.count) of \(rounds) unlinks not seen: \(wrong.prefix(5).joined(separator: "; "))")
            // And once the server has them all: every other name has one link.
            let directory = open(m.path("a"), O_RDONLY | O_DIRECTORY)
            #expect(directory >= 0 && fsync(directory) == 0)
            close(directory)
            let counts = (0..<rounds).compactMap { try? Posix.stat(m.path("b/f\($0)")).get().st_nlink }
            #expect(counts.count == rounds && counts.allSatisfy { $0 == 1 })
        }
    }
}
