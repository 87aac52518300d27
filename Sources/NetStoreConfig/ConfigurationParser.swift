import NetStoreCore
import TOMLKit

/// Turns the TOML text into a checked `ClusterConfiguration`. Syntax errors come
/// from TOMLKit with their line and column; every other error names the key and,
/// through `KeyLocator`, its line. Unknown keys are errors: a misspelt key that
/// was silently ignored would leave a server running with a default.
struct ConfigurationParser {
    let file: String
    let text: String
    let directory: String
    let locator: KeyLocator

    static let serverKeys = ["name", "address", "role"]
    static let settingKeys = [
        "listen", "data", "write-quorum", "cluster-key-file", "admin-password-file", "log-level",
        "metrics-listen", "tls-cert", "tls-key", "tls-ca",
    ]

    init(file: String, text: String) {
        self.file = file
        self.text = text
        if let slash = file.lastIndex(of: "/") {
            directory = slash == file.startIndex ? "/" : String(file[..<slash])
        } else {
            directory = "."
        }
        locator = KeyLocator(text: text)
    }

    func parse() throws(NetStoreError) -> ClusterConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let at = error.source.begin
            throw NetStoreError(.invalid, "\(file):\(at.line):\(at.column): \(error.description)")
        } catch {
            throw NetStoreError(.invalid, "\(file): \(error)")
        }
        var defaults = ServerSettings()
        var serverTables: [TOMLTable] = []
        for key in root.keys {
            let value = root[key]!
            // `key = ...` at the top, or a table of that name ([tls], say) with only its header's line.
            let at: KeyLocator.Table = locator.line(.root, key) == nil ? .other(key) : .root
            switch key {
            case "defaults":
                guard let table = value.table else {
                    throw failure(at, key, "'defaults' must be a table: write [defaults] above the settings every server shares")
                }
                defaults = try settings(from: table, in: .defaults, context: "[defaults]", allowing: [])
            case "server":
                guard let array = value.array else {
                    throw failure(at, key, "write each server as [[server]] (an array of tables), not [server]")
                }
                for element in array {
                    guard let table = element.table else {
                        throw failure(at, key, "'server' must be an array of tables: write [[server]] once per server")
                    }
                    serverTables.append(table)
                }
            default:
                throw failure(at, key, "unknown key '\(key)' at the top level (known: [defaults], [[server]])")
            }
        }
        guard !serverTables.isEmpty else {
            throw NetStoreError(.invalid, "\(file): no servers: describe each one in a [[server]] table with name, address and role")
        }
        var servers: [ServerEntry] = []
        for (index, table) in serverTables.enumerated() {
            servers.append(try server(from: table, index: index, defaults: defaults))
        }
        try check(servers)
        return ClusterConfiguration(file: file, servers: servers)
    }

    // MARK: servers

    private func server(from table: TOMLTable, index: Int, defaults: ServerSettings) throws(NetStoreError) -> ServerEntry {
        let at = KeyLocator.Table.server(index)
        var context = "[[server]] #\(index + 1)"
        let name = try string("name", in: table, at, context, required: true)!
        guard Self.isValidName(name) else {
            throw failure(at, "name", "\(context): name '\(name)' must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit (it names a systemd unit instance)")
        }
        context = "server '\(name)'"
        let addressText = try string("address", in: table, at, context, required: true)!
        guard let address = HostPort(parsing: addressText) else {
            throw failure(at, "address", "\(context): address '\(addressText)' must be HOST:PORT, e.g. 10.0.0.1:7070 or [fd00::1]:7070")
        }
        let roleText = try string("role", in: table, at, context, required: true)!
        guard let role = ServerEntry.Role(rawValue: roleText) else {
            throw failure(at, "role", "\(context): role must be \"primary\" or \"backup\", not \"\(roleText)\"")
        }
        let own = try settings(from: table, in: at, context: context, allowing: Self.serverKeys)
        var lines = locator.lines(of: .defaults).merging(locator.lines(of: at)) { _, own in own }
        lines[""] = locator.line(at)
        return ServerEntry(name: name, address: address, role: role, settings: defaults.overridden(by: own), lines: lines)
    }

    /// What can only be checked with every server known.
    private func check(_ servers: [ServerEntry]) throws(NetStoreError) {
        var names: Set<String> = []
        var addresses: Set<HostPort> = []
        for (index, server) in servers.enumerated() {
            let at = KeyLocator.Table.server(index)
            guard names.insert(server.name).inserted else {
                throw failure(at, "name", "server name '\(server.name)' is used twice: every server needs a name of its own")
            }
            guard addresses.insert(server.address).inserted else {
                throw failure(at, "address", "server '\(server.name)': address \(server.address) is already another server's")
            }
        }
        let primaries = servers.indices.filter { servers[$0].role == .primary }
        if primaries.isEmpty {
            throw failure(.server(0), "role", "no server has role = \"primary\": exactly one must")
        }
        if primaries.count > 1 {
            let second = servers[primaries[1]]
            throw failure(.server(primaries[1]), "role", "server '\(second.name)': a second primary: exactly one server has role = \"primary\", the others \"backup\"")
        }
        for (index, server) in servers.enumerated() {
            let at = KeyLocator.Table.server(index)
            if let quorum = server.settings.writeQuorum, !(1...servers.count).contains(quorum) {
                throw failure(locator.line(at, "write-quorum") != nil ? at : .defaults, "write-quorum", "server '\(server.name)': write-quorum must be 1 to \(servers.count) with \(servers.count) servers, not \(quorum)")
            }
            let tls = server.settings.tlsKeysSet
            if !tls.isEmpty && tls.count < 3 {
                let missing = ["tls-cert", "tls-key", "tls-ca"].filter { !tls.contains($0) }
                throw failure(locator.line(at, tls[0]) != nil ? at : .defaults, tls[0], "server '\(server.name)': TLS needs tls-cert, tls-key and tls-ca: \(missing.joined(separator: ", ")) missing")
            }
            if servers.count > 1 && server.settings.clusterKeyFile == nil {
                throw failure(at, nil, "server '\(server.name)': cluster-key-file is missing: replicated servers prove themselves to each other with a shared key (set it under [defaults] for all)")
            }
        }
    }

    /// Letters, digits, '-', '_', '.', from a letter or digit: it names a systemd instance and a directory.
    static func isValidName(_ name: String) -> Bool {
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        guard let first = name.unicodeScalars.first, isAlphanumeric(first), name.unicodeScalars.count <= 64 else {
            return false
        }
        return name.unicodeScalars.allSatisfy { isAlphanumeric($0) || "-_.".unicodeScalars.contains($0) }
    }

    // MARK: settings

    private func settings(
        from table: TOMLTable, in at: KeyLocator.Table, context: String, allowing extra: [String]
    ) throws(NetStoreError) -> ServerSettings {
        for key in table.keys where !Self.settingKeys.contains(key) && !extra.contains(key) {
            throw failure(at, key, "\(context): unknown key '\(key)' (known: \((extra + Self.settingKeys).joined(separator: ", ")))")
        }
        var settings = ServerSettings()
        settings.listen = try hostPort("listen", in: table, at, context)
        settings.data = try path("data", in: table, at, context)
        if let quorum = table["write-quorum"] {
            guard let value = quorum.int else {
                throw failure(at, "write-quorum", "\(context): write-quorum must be an integer, not \(describe(quorum))")
            }
            settings.writeQuorum = value
        }
        settings.clusterKeyFile = try path("cluster-key-file", in: table, at, context)
        settings.adminPasswordFile = try path("admin-password-file", in: table, at, context)
        if let level = try string("log-level", in: table, at, context) {
            guard ServerSettings.logLevels.contains(level) else {
                throw failure(at, "log-level", "\(context): log-level must be one of \(ServerSettings.logLevels.joined(separator: ", ")), not '\(level)'")
            }
            settings.logLevel = level
        }
        settings.metricsListen = try hostPort("metrics-listen", in: table, at, context)
        settings.tlsCert = try path("tls-cert", in: table, at, context)
        settings.tlsKey = try path("tls-key", in: table, at, context)
        settings.tlsCA = try path("tls-ca", in: table, at, context)
        return settings
    }

    private func string(
        _ key: String, in table: TOMLTable, _ at: KeyLocator.Table, _ context: String, required: Bool = false
    ) throws(NetStoreError) -> String? {
        guard let value = table[key] else {
            if required { throw failure(at, nil, "\(context): '\(key)' is missing") }
            return nil
        }
        guard let text = value.string else {
            throw failure(at, key, "\(context): \(key) must be a string, not \(describe(value))")
        }
        return text
    }

    private func hostPort(_ key: String, in table: TOMLTable, _ at: KeyLocator.Table, _ context: String) throws(NetStoreError) -> HostPort? {
        guard let text = try string(key, in: table, at, context) else { return nil }
        guard let value = HostPort(parsing: text) else {
            throw failure(at, key, "\(context): \(key) '\(text)' must be HOST:PORT, e.g. 0.0.0.0:7070")
        }
        return value
    }

    /// A path; a relative one is taken from the configuration file's directory.
    private func path(_ key: String, in table: TOMLTable, _ at: KeyLocator.Table, _ context: String) throws(NetStoreError) -> String? {
        guard let text = try string(key, in: table, at, context) else { return nil }
        guard !text.isEmpty, !text.contains("\0") else {
            throw failure(at, key, "\(context): \(key) must be a file path, not empty")
        }
        guard !text.hasPrefix("~") else {
            throw failure(at, key, "\(context): \(key) '\(text)': '~' is not expanded here: write the full path")
        }
        if text.hasPrefix("/") { return text }
        return directory == "/" ? "/\(text)" : "\(directory)/\(text)"
    }

    private func describe(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .int: "an integer (\(value.int!))"
        case .string: "a string (\"\(value.string!)\")"
        case .table: "a table"
        case .array: "an array"
        case .bool: "a boolean"
        case .double: "a number with a fraction"
        default: "a date or time"
        }
    }

    private func failure(_ at: KeyLocator.Table, _ key: String?, _ message: String) -> NetStoreError {
        let line = key.flatMap { locator.line(at, $0) } ?? locator.line(at)
        return NetStoreError(.invalid, "\(file)\(line.map { ":\($0)" } ?? ""): \(message)")
    }
}
