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
