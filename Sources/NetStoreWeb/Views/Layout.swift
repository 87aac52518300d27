/// The page shell every HTML page shares: header with the user and logout,
/// main content, the local stylesheet and script.
enum Layout {
    static func page(title: String, session: WebSession?, _ content: HTML) -> HTML {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · NetStore</title>
        <link rel="stylesheet" href="/static/app.css">
        <link rel="icon" href="data:,">
        \(session.map { s -> HTML in "<meta name=\"csrf-token\" content=\"\(s.csrfToken)\">" })
        <script src="/static/app.js" defer></script>
        </head>
        <body>
        <header class="top">
          <a class="brand" href="/files/">\(Icons.logo) NetStore</a>
          \(session.map(nav))
        </header>
        <main>
        \(content)
        </main>
        </body>
        </html>
        """
    }

    private static func nav(_ session: WebSession) -> HTML {
        let admin: HTML? = session.isAdmin
            ? "<a href=\"/admin/users\">Accounts</a><a href=\"/admin/cluster\">Cluster</a>" : nil
        return """
        <nav class="user">
          <a href="/files/">Files</a>\(admin)
          <form method="post" action="/logout" class="inline">
            \(csrfField(session))
            <button type="submit" class="link" id="logout">Log out <span class="who">\(session.user.name)</span></button>
          </form>
        </nav>
        """
    }

    static func csrfField(_ session: WebSession) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrfToken)\">"
    }

    static func errorPage(_ error: WebError, session: WebSession?) -> HTML {
        let back = error.back ?? "/files/"
        let label = back == "/login" ? "Log in" : "Back to your files"
        return page(title: error.title, session: session, """
            <section class="card error">
              <h1>\(error.title)</h1>
              <p class="message" id="error-message">\(error.message)</p>
              <p><a class="button" href="\(back)">\(label)</a></p>
            </section>
            """)
    }
}
