import NetStoreClient
import NetStoreCore

/// A file's page: what it is, its actions, and an inline preview.
enum FileView {
    enum Preview: Sendable {
        case image, pdf, audio, video
        /// The first bytes as text; `truncated` when the file is longer.
        case text(String, truncated: Bool)
        case symlink(target: String)
        case none(reason: String)
    }

    static func page(path: RemotePath, node: NodeAttributes, preview: Preview, session: WebSession) -> HTML {
        let name = path.name ?? ""
        let kind = FileKind.of(name: name, kind: node.kind)
        let raw = WebPath.url("/raw", path)
        let query = "?path=" + WebPath.encodeComponent(path.description)
        let download: HTML? = node.kind == .file
            ? "<a class=\"button primary\" id=\"download\" href=\"\(WebPath.url("/download", path))\">\(Icons.download) Download</a>" : nil
        let open: HTML? = node.kind == .file
            ? "<a class=\"button\" href=\"\(raw)\" target=\"_blank\" rel=\"noopener\">Open</a>" : nil
        return Layout.page(title: name, session: session, """
            \(Breadcrumbs.render(path))
            <section class="file-head">
              <div class="file-title">\(Icons.file(kind))<h1 id="file-name">\(name)</h1></div>
              <p class="meta">\(Formats.size(node.size)) · modified \(Formats.date(node.mtimeNs)) · \(MediaTypes.contentType(for: name))</p>
              <div class="file-actions">
                \(download)\(open)
                <a class="button" id="rename" href="/rename\(query)">\(Icons.rename) Rename / move</a>
                <a class="button danger" id="delete" href="/delete\(query)">\(Icons.trash) Delete</a>
              </div>
            </section>
            <section class="preview" id="preview">\(body(preview, raw: raw, name: name))</section>
            """)
    }

    private static func body(_ preview: Preview, raw: String, name: String) -> HTML {
        switch preview {
        case .image:
            return "<img id=\"preview-image\" src=\"\(raw)\" alt=\"\(name)\">"
        case .pdf:
            return "<iframe id=\"preview-pdf\" src=\"\(raw)\" title=\"\(name)\"></iframe>"
        case .audio:
            return "<audio id=\"preview-audio\" controls preload=\"metadata\" src=\"\(raw)\"></audio>"
        case .video:
            return "<video id=\"preview-video\" controls preload=\"metadata\" src=\"\(raw)\"></video>"
        case .text(let text, let truncated):
            let note: HTML? = truncated ? "<p class=\"notice\">Showing the beginning of the file. Download it to see all of it.</p>" : nil
            return "\(note)<pre id=\"preview-text\">\(text)</pre>"
        case .symlink(let target):
            return "<p class=\"notice\">A symbolic link to <code>\(target)</code> (links are not followed in the store).</p>"
        case .none(let reason):
            return "<p class=\"notice\" id=\"no-preview\">\(reason)</p>"
        }
    }
}
