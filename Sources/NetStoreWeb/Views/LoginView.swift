enum LoginView {
    static func page(formToken: String, next: String, user: String = "", error: WebError? = nil, notice: String? = nil) -> HTML {
        let message: HTML? = error.map { e -> HTML in "<p class=\"alert\" id=\"login-error\" role=\"alert\">\(e.message)</p>" }
        let info: HTML? = notice.map { n -> HTML in "<p class=\"notice\">\(n)</p>" }
        return Layout.page(title: "Log in", session: nil, """
            <section class="card login">
              <h1>Log in to NetStore</h1>
              \(info)\(message)
              <form method="post" action="/login">
                <input type="hidden" name="csrf" value="\(formToken)">
                <input type="hidden" name="next" value="\(next)">
                <label>User name <input name="user" id="user" autocomplete="username" autocapitalize="none" required value="\(user)"></label>
                <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
                <button type="submit" class="primary" id="login">Log in</button>
              </form>
            </section>
            """)
    }
}
