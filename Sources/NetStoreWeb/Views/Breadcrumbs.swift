import NetStoreClient

enum Breadcrumbs {
    /// "Home / a / b" with each level a link to its folder; the last is plain text.
    static func render(_ path: RemotePath) -> HTML {
        var parts: [HTML] = []
        var walked = RemotePath.root
        let home: HTML = path.isRoot
            ? "<span aria-current=\"page\">Home</span>"
            : "<a href=\"/files/\">Home</a>"
        parts.append(home)
        for (index, name) in path.components.enumerated() {
            walked = (try? walked.appending(name)) ?? walked
            if index == path.components.count - 1 {
                parts.append("<span aria-current=\"page\">\(name)</span>")
            } else {
                parts.append("<a href=\"\(WebPath.url("/files", walked, trailingSlash: true))\">\(name)</a>")
            }
        }
        return "<nav class=\"crumbs\" aria-label=\"Folder\" id=\"breadcrumbs\">\(HTML.join(parts, separator: "<span class=\"sep\">/</span>"))</nav>"
    }
}
