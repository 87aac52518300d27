import NetStoreClient
import NetStoreCore

enum AdminViews {
    static func users(_ users: [UserInfo], notice: String?, session: WebSession) -> HTML {
        let rows: [HTML] = users.sorted { $0.name < $1.name }.map { user in
            let remove: HTML? = user.name == session.user.name ? nil : """
                <form method="post" action="/admin/users/remove" class="inline confirm" data-confirm="Remove \(user.name) and all their files?">
                  \(Layout.csrfField(session))<input type="hidden" name="name" value="\(user.name)">
                  <button type="submit" class="danger small">Remove</button>
                </form>
                """
            return """
                <tr data-user="\(user.name)">
                  <td>\(user.name)</td><td>\(user.role.name)</td><td class="date">\(Formats.date(user.createdNs))</td>
                  <td class="admin-actions">
                    <form method="post" action="/admin/users/password" class="inline">
                      \(Layout.csrfField(session))<input type="hidden" name="name" value="\(user.name)">
                      <input type="password" name="password" placeholder="New password" minlength="\(Limits.minPasswordLength)" required aria-label="New password for \(user.name)">
                      <button type="submit" class="small">Set password</button>
                    </form>
                    \(remove)
                  </td>
                </tr>
                """
        }
        let info: HTML? = notice.map { n -> HTML in "<p class=\"notice\" id=\"notice\">\(n)</p>" }
        return Layout.page(title: "Accounts", session: session, """
            <h1>Accounts</h1>
            \(info)
            <table class="listing admin"><thead><tr><th>Name</th><th>Role</th><th class="date">Created</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <section class="card">
              <h2>Add an account</h2>
              <form method="post" action="/admin/users/add" class="grid">
                \(Layout.csrfField(session))
                <label>User name <input name="name" id="new-user" required pattern="[a-z][a-z0-9._-]*" maxlength="\(Limits.maxUserNameLength)" autocapitalize="none"></label>
                <label>Password <input name="password" id="new-password" type="password" required minlength="\(Limits.minPasswordLength)"></label>
                <label>Role <select name="role"><option value="user">user</option><option value="admin">admin</option></select></label>
                <button type="submit" class="primary" id="add-user">Add</button>
              </form>
            </section>
            """)
    }

    static func cluster(_ probes: [ClusterStatus.Probe], connected: ServerAddress?, session: WebSession) -> HTML {
        let primary = ReplicationLag.primary(among: probes.compactMap { try? $0.result.get() })
        let rows: [HTML] = probes.map { probe in
            let mark: HTML? = probe.server == connected ? " <span class=\"tag\">this viewer's server</span>" : nil
            switch probe.result {
            case .success(let status):
                return """
                    <tr data-server="\(probe.server.description)"><td>\(probe.server.description)\(mark)</td>
                    <td><span class="ok">reachable</span></td><td class="role">\(status.role)</td>
                    <td class="num term">\(status.term)</td>\(lagCell(status, primary: primary))
                    <td class="num applied">\(status.appliedIndex) / \(status.commitIndex) / \(status.lastIndex)</td>
                    <td class="num blocks">\(status.blockCount)</td><td class="num bytes" title="\(status.blockBytes) bytes">\(Formats.size(status.blockBytes))</td>
                    <td class="num">\(status.nodeCount)</td><td class="num">\(status.userCount)</td>
                    <td>\(status.softwareVersion)</td><td class="num">\(uptime(status.uptimeSeconds))</td></tr>
                    """
            case .failure(let error):
                return """
                    <tr data-server="\(probe.server.description)" class="unreachable"><td>\(probe.server.description)\(mark)</td>
                    <td><span class="bad">unreachable</span></td>
                    <td colspan="10" class="reason">\(error.message)</td></tr>
                    """
            }
        }
        let reachable = probes.filter { (try? $0.result.get()) != nil }.count
        let summary: HTML = primary == nil
            ? "<p class=\"alert\" id=\"cluster-summary\">No reachable server is the primary: writes cannot be made until one is promoted.</p>"
            : "<p class=\"notice\" id=\"cluster-summary\">\(reachable) of \(probes.count) servers reachable.</p>"
        return Layout.page(title: "Cluster", session: session, """
            <h1>Cluster health</h1>
            \(summary)
            <div class="scroll"><table class="listing admin" id="cluster"><thead><tr><th>Server</th><th>State</th><th>Role</th>
            <th class="num">Term</th><th>Replication lag</th><th class="num" title="applied / committed / last log entry">Log applied / committed / last</th>
            <th class="num">Blocks</th><th class="num">Stored</th><th class="num">Nodes</th><th class="num">Accounts</th>
            <th>Version</th><th class="num">Uptime</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            <p class="hint">Lag counts the entries of the primary's log that a server's log lacks (what it would be without if the primary were lost now), and the committed entries it has yet to apply (a backup applies them in batches).</p>
            """)
    }

    private static func lagCell(_ status: ServerStatus, primary: ServerStatus?) -> HTML {
        guard let primary else { return "<td class=\"lag\" data-lag=\"unknown\">unknown (no primary reachable)</td>" }
        let lag = ReplicationLag(of: status, primary: primary)
        let mark = lag.inSync ? "ok" : "warn"
        return "<td class=\"lag\" data-lag=\"\(lag.behindLog)\"><span class=\"\(mark)\">\(lag.description)</span></td>"
    }

    static func uptime(_ seconds: UInt64) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
    }
}
