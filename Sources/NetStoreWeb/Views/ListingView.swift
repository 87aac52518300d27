import NetStoreClient
import NetStoreCore

/// A folder: breadcrumbs, upload and new-folder tools, and the table of entries.
enum ListingView {
    static func page(path: RemotePath, listing: DirectoryListing, session: WebSession) -> HTML {
        let title = path.name ?? "Home"
        let rows = listing.entries.map { row($0, in: path, session: session) }
        let empty: HTML? = listing.entries.isEmpty
            ? "<tr><td colspan=\"5\" class=\"empty\">This folder is empty. Drop files here or use Upload.</td></tr>" : nil
        return Layout.page(title: title, session: session, """
            \(Breadcrumbs.render(path))
            <section class="tools" data-dir="\(path.description)" data-upload="\(WebPath.url("/upload", path))">
              <label class="button primary upload-button">\(Icons.upload) Upload<input type="file" id="upload-input" multiple hidden></label>
              <form method="post" action="/mkdir" class="mkdir">
                \(Layout.csrfField(session))
                <input type="hidden" name="dir" value="\(path.description)">
                <input name="name" id="mkdir-name" placeholder="New folder name" required maxlength="255" aria-label="New folder name">
                <button type="submit" id="mkdir">New folder</button>
              </form>
            </section>
            <div id="dropzone" class="dropzone" hidden>Drop files to upload to “\(title)”</div>
            <ul id="uploads" class="uploads"></ul>
            <table class="listing" id="listing">
              <thead><tr>
                <th class="icon-col"></th>
                \(header("Name", .name, listing, path))
                \(header("Size", .size, listing, path, cls: "num"))
                \(header("Modified", .date, listing, path, cls: "date"))
                <th class="actions-col"><span class="sr">Actions</span></th>
              </tr></thead>
              <tbody>\(rows)\(empty)</tbody>
            </table>
            \(pager(listing, path))
            """)
    }

    private static func sortURL(_ path: RemotePath, sort: DirectoryListing.SortKey, descending: Bool, page: Int = 1) -> String {
        var url = WebPath.url("/files", path, trailingSlash: true) + "?sort=\(sort.rawValue)"
        if descending { url += "&order=desc" }
        if page > 1 { url += "&page=\(page)" }
        return url
    }

    private static func header(_ label: String, _ key: DirectoryListing.SortKey, _ listing: DirectoryListing, _ path: RemotePath, cls: String = "") -> HTML {
        guard !listing.isLarge else { return "<th class=\"\(cls)\">\(label)</th>" }
        let active = listing.request.sort == key
        let descending = active && !listing.request.descending
        let arrow = active ? (listing.request.descending ? " ↓" : " ↑") : ""
        let aria: HTML = active ? HTML(trusted: " aria-sort=\"\(listing.request.descending ? "descending" : "ascending")\"") : ""
        return "<th class=\"\(cls)\"\(aria)><a id=\"sort-\(key.rawValue)\" href=\"\(sortURL(path, sort: key, descending: descending))\">\(label)\(arrow)</a></th>"
    }

    private static func row(_ entry: DirectoryEntry, in directory: RemotePath, session: WebSession) -> HTML {
        guard let path = try? directory.appending(entry.name) else { return "" }
        let attributes = entry.attributes
        let kind = FileKind.of(name: entry.name, kind: attributes.kind)
        let isDirectory = attributes.kind == .directory
        let href = WebPath.url("/files", path, trailingSlash: isDirectory)
        let size = isDirectory ? "—" : Formats.size(attributes.size)
        let download: HTML? = attributes.kind == .file
            ? "<a class=\"act\" href=\"\(WebPath.url("/download", path))\" title=\"Download\" aria-label=\"Download \(entry.name)\">\(Icons.download)</a>" : nil
        let query = "?path=" + WebPath.encodeComponent(path.description)
        return """
            <tr class="entry" data-name="\(entry.name)">
              <td class="icon-col">\(Icons.file(kind))</td>
              <td class="name"><a href="\(href)">\(entry.name)</a></td>
              <td class="num" data-bytes="\(attributes.size)">\(size)</td>
              <td class="date">\(Formats.date(attributes.mtimeNs))</td>
              <td class="actions-col">\(download)<a class="act" href="/rename\(query)" title="Rename or move" aria-label="Rename \(entry.name)">\(Icons.rename)</a><a class="act danger" href="/delete\(query)" title="Delete" aria-label="Delete \(entry.name)">\(Icons.trash)</a></td>
            </tr>
            """
    }

    private static func pager(_ listing: DirectoryListing, _ path: RemotePath) -> HTML {
        if listing.isLarge {
            let base = WebPath.url("/files", path, trailingSlash: true)
            let first: HTML? = listing.request.after != 0 ? "<a class=\"button\" href=\"\(base)\">First page</a>" : nil
            let next: HTML? = listing.nextCookie.map { c -> HTML in "<a class=\"button\" id=\"next-page\" href=\"\(base)?after=\(c)\">Next page</a>" }
            return """
                <nav class="pager"><span>A large folder: shown \(listing.entries.count) at a time, in storage order.</span>\(first)\(next)</nav>
                """
        }
        guard let pageCount = listing.pageCount, let total = listing.total else { return "" }
        let request = listing.request
        let count: HTML = "<span>\(total) \(total == 1 ? "item" : "items")</span>"
        guard pageCount > 1 else { return "<nav class=\"pager\">\(count)</nav>" }
        let previous: HTML? = request.page > 1
            ? "<a class=\"button\" id=\"prev-page\" href=\"\(sortURL(path, sort: request.sort, descending: request.descending, page: request.page - 1))\">Previous</a>" : nil
        let next: HTML? = request.page < pageCount
            ? "<a class=\"button\" id=\"next-page\" href=\"\(sortURL(path, sort: request.sort, descending: request.descending, page: request.page + 1))\">Next</a>" : nil
        return "<nav class=\"pager\">\(count)<span>Page \(request.page) of \(pageCount)</span>\(previous)\(next)</nav>"
    }
}
