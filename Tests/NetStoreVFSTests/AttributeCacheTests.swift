import NetStoreCore
@testable import NetStoreVFS
import Testing

@Suite("Attributes answered out of order")
struct AttributeCacheTests {
    static func file(version: UInt64, size: UInt64, mode: UInt32 = 0o644, mtimeNs: Int64 = 0) -> NodeAttributes {
        NodeAttributes(id: 7, kind: .file, mode: mode, uid: 0, gid: 0, nlink: 1, size: size,
                       atimeNs: 0, mtimeNs: mtimeNs, ctimeNs: mtimeNs, version: version)
    }

    @Test("an answer older than content already seen shows the newer content, even after removal; an equal version is taken as answered")
    func olderContent() {
        let cache = AttributeCache(timeout: { .seconds(30) })
        cache.put(Self.file(version: 2, size: 4000, mtimeNs: 20), asOf: cache.stamp)

        // A listing the server gave before version 2, handled after it.
        let late = cache.put(Self.file(version: 1, size: 0, mode: 0o600, mtimeNs: 10), asOf: cache.stamp)
        #expect(late.version == 2 && late.size == 4000 && late.mtimeNs == 20)
        #expect(late.mode == 0o600, "what is not content stays as answered")
        #expect(cache.get(7)?.size == 4000)

        // Dropped from the cache (an unlink elsewhere in the tree): still not undone.
        cache.removeAll()
        #expect(cache.get(7) == nil)
        #expect(cache.reconciled(Self.file(version: 1, size: 0), asOf: .max).size == 4000)
        #expect(cache.put(Self.file(version: 1, size: 0), asOf: cache.stamp).size == 4000)

        // Another client's chmod: the same version, taken as it is.
        #expect(cache.put(Self.file(version: 2, size: 4000, mode: 0o640, mtimeNs: 20), asOf: cache.stamp).mode == 0o640)
        // A newer version replaces the content.
        let truncated = cache.put(Self.file(version: 3, size: 0, mtimeNs: 30), asOf: cache.stamp)
        #expect(truncated.size == 0 && truncated.version == 3)
        #expect(cache.reconciled(Self.file(version: 2, size: 4000), asOf: .max).size == 0)
    }

    @Test("an answer asked for before a change made here was answered gives way to that change; one asked for after it is taken")
    func changesMadeHere() {
        let cache = AttributeCache(timeout: { .seconds(30) })
        cache.put(Self.file(version: 1, size: 10, mode: 0o644), asOf: cache.stamp)
        let before = cache.stamp
        // A chmod made here (no new version) is answered, then a listing asked for before it.
        cache.changedHere(Self.file(version: 1, size: 10, mode: 0o600))
        #expect(cache.put(Self.file(version: 1, size: 10, mode: 0o644), asOf: before).mode == 0o600)
        #expect(cache.get(7)?.mode == 0o600)
        #expect(cache.reconciled(Self.file(version: 1, size: 10, mode: 0o644), asOf: before).mode == 0o600)
        // Unless its content is newer: it was answered after the change (and another one).
        #expect(cache.put(Self.file(version: 2, size: 5, mode: 0o600), asOf: before).size == 5)

        // Asked for after the change's answer: another client's chmod since, taken.
        let after = cache.stamp
        #expect(cache.put(Self.file(version: 2, size: 5, mode: 0o640), asOf: after).mode == 0o640)
        #expect(cache.get(7)?.mode == 0o640)
    }

    @Test("answers asked for before a node was outdated (a link of it removed) are not cached, and say so; later ones are")
    func outdated() {
        let cache = AttributeCache(timeout: { .seconds(30) })
        var twoLinks = Self.file(version: 1, size: 10)
        twoLinks.nlink = 2
        cache.put(twoLinks, asOf: cache.stamp)
        let before = cache.stamp
        cache.outdate(7)
        #expect(cache.get(7) == nil, "dropped")
        #expect(cache.isOutdated(7, asOf: before))
        #expect(!cache.isOutdated(8, asOf: before), "other nodes are not")
        // A listing asked for before, handled after: shown as answered, not kept.
        #expect(cache.put(twoLinks, asOf: before).nlink == 2)
        #expect(cache.get(7) == nil)

        let after = cache.stamp
        #expect(!cache.isOutdated(7, asOf: after))
        #expect(cache.put(Self.file(version: 1, size: 10), asOf: after).nlink == 1)
        #expect(cache.get(7)?.nlink == 1)

        // After a change whose effect is not known (a rename), no answer asked before it is kept.
        let beforeRename = cache.stamp
        cache.removeAll()
        cache.put(twoLinks, asOf: beforeRename)
        #expect(cache.get(7) == nil)
        cache.put(twoLinks, asOf: cache.stamp)
        #expect(cache.get(7)?.nlink == 2)
    }
}
