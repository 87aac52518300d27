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
    func olderAnswers() {
        let cache = AttributeCache(timeout: { .seconds(30) })
        cache.put(Self.file(version: 2, size: 4000, mtimeNs: 20))

        // A listing the server gave before version 2, handled after it.
        let late = cache.put(Self.file(version: 1, size: 0, mode: 0o600, mtimeNs: 10))
        #expect(late.version == 2 && late.size == 4000 && late.mtimeNs == 20)
        #expect(late.mode == 0o600, "what is not content stays as answered")
        #expect(cache.get(7)?.size == 4000)

        // Dropped from the cache (an unlink elsewhere in the tree): still not undone.
        cache.removeAll()
        #expect(cache.get(7) == nil)
        #expect(cache.newest(Self.file(version: 1, size: 0)).size == 4000)
        #expect(cache.put(Self.file(version: 1, size: 0)).size == 4000)

        // A chmod's answer names the same version: taken as it is.
        #expect(cache.put(Self.file(version: 2, size: 4000, mode: 0o640, mtimeNs: 20)).mode == 0o640)
        // A newer version replaces the content.
        let truncated = cache.put(Self.file(version: 3, size: 0, mtimeNs: 30))
        #expect(truncated.size == 0 && truncated.version == 3)
        #expect(cache.newest(Self.file(version: 2, size: 4000)).size == 0)
    }
}
