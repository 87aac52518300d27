import NetStoreClient
import NetStoreCore

/// One page of a directory as the listing shows it.
///
/// A directory of at most `sortableLimit` entries is read whole (a few READDIR
/// pages), sorted as asked and cut into pages. A larger one is never loaded
/// whole: it is shown `pageSize` entries at a time in the store's order,
/// continuing from a READDIR cookie.
struct DirectoryListing: Sendable {
    enum SortKey: String, Sendable, CaseIterable { case name, size, date }

    struct Request: Sendable {
        var sort: SortKey = .name
        var descending = false
        var page = 1
        /// For a large directory: continue after this cookie.
        var after: UInt64 = 0
    }

    var entries: [DirectoryEntry]
    var request: Request
    /// Nil for a large directory (its size is not counted).
    var total: Int?
    var pageCount: Int?
    /// For a large directory: the cookie of the next page, if there is one.
    var nextCookie: UInt64?

    var isLarge: Bool { total == nil }

    static func load(
        _ directory: NodeID, client: NetStoreClient, request: Request, pageSize: Int, sortableLimit: Int
    ) async throws(NetStoreError) -> DirectoryListing {
        // A mount's hidden directory of unlinked-but-open files is not the user's.
        let atRoot = try await directory == client.rootNode()
        func shown(_ entries: [DirectoryEntry]) -> [DirectoryEntry] {
            atRoot ? entries.filter { $0.name != NameRules.unlinkedDirectoryName } : entries
        }
        if request.after == 0 {
            var all: [DirectoryEntry] = []
            var cookie: UInt64 = 0
            while all.count <= sortableLimit {
                let page = try await client.readdir(directory, after: cookie, limit: min(Limits.maxReaddirPage, sortableLimit + 1 - all.count))
                all.append(contentsOf: shown(page.entries))
                guard !page.isLast, let last = page.entries.last else {
                    return sortedPage(all, request: request, pageSize: pageSize)
                }
                cookie = last.cookie
                if all.count > sortableLimit { break }
            }
        }
        // Too many to sort: one page in the store's order.
        let page = try await client.readdir(directory, after: request.after, limit: min(pageSize, Limits.maxReaddirPage))
        return DirectoryListing(
            entries: shown(page.entries), request: request, total: nil, pageCount: nil,
            nextCookie: page.isLast ? nil : page.entries.last?.cookie)
    }

    private static func sortedPage(_ all: [DirectoryEntry], request: Request, pageSize: Int) -> DirectoryListing {
        let sorted = all.sorted { a, b in
            let aDir = a.attributes.kind == .directory
            let bDir = b.attributes.kind == .directory
            if aDir != bDir { return aDir }  // folders first, whichever the order
            let ascending: Bool
            switch request.sort {
            case .name: ascending = nameOrder(a.name, b.name)
            case .size:
                ascending = a.attributes.size == b.attributes.size ? nameOrder(a.name, b.name) : a.attributes.size < b.attributes.size
            case .date:
                ascending = a.attributes.mtimeNs == b.attributes.mtimeNs ? nameOrder(a.name, b.name) : a.attributes.mtimeNs < b.attributes.mtimeNs
            }
            return request.descending ? !ascending : ascending
        }
        let pageCount = max(1, (sorted.count + pageSize - 1) / pageSize)
        var request = request
        request.page = min(max(1, request.page), pageCount)
        let start = (request.page - 1) * pageSize
        let slice = Array(sorted[start..<min(sorted.count, start + pageSize)])
        return DirectoryListing(entries: slice, request: request, total: all.count, pageCount: pageCount, nextCookie: nil)
    }

    /// Case-insensitive first, then exact, so the order is total and stable.
    private static func nameOrder(_ a: String, _ b: String) -> Bool {
        let x = a.lowercased()
        let y = b.lowercased()
        return x == y ? a < b : x < y
    }
}
