import NetStoreClient
import NetStoreCore

/// The rename and delete confirmation pages (they work without JavaScript).
enum EditViews {
    static func rename(path: RemotePath, node: NodeAttributes, session: WebSession) -> HTML {
        let name = path.name ?? ""
        return Layout.page(title: "Rename \(name)", session: session, """
            \(Breadcrumbs.render(path))
            <section class="card">
              <h1>Rename or move</h1>
              <p>Type a new name to rename <strong>\(name)</strong> in its folder, or a path such as
                 <code>/Photos/2024/\(name)</code> to move it (into a folder if that path is an existing folder).</p>
              <form method="post" action="/rename">
                \(Layout.csrfField(session))
                <input type="hidden" name="from" value="\(path.description)">
                <label>New name or path <input name="to" id="rename-to" value="\(name)" required autofocus></label>
                <div class="form-actions">
                  <button type="submit" class="primary" id="rename-submit">Rename</button>
                  <a class="button" href="\(WebPath.url("/files", path.parent))">Cancel</a>
                </div>
              </form>
            </section>
            """)
    }

    static func delete(path: RemotePath, node: NodeAttributes, session: WebSession) -> HTML {
        let name = path.name ?? ""
        let what: HTML = node.kind == .directory
            ? "the folder <strong>\(name)</strong> and everything in it"
            : "<strong>\(name)</strong> (\(Formats.size(node.size)))"
        return Layout.page(title: "Delete \(name)", session: session, """
            \(Breadcrumbs.render(path))
            <section class="card">
              <h1>Delete?</h1>
              <p>This deletes \(what). It cannot be undone.</p>
              <form method="post" action="/delete">
                \(Layout.csrfField(session))
                <input type="hidden" name="path" value="\(path.description)">
                <div class="form-actions">
                  <button type="submit" class="danger" id="delete-confirm">Delete</button>
                  <a class="button" href="\(WebPath.url("/files", path.parent))">Cancel</a>
                </div>
              </form>
            </section>
            """)
    }
}
