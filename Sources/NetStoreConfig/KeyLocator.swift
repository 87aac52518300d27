/// Finds the line of a key or table header in the TOML text, for messages about
/// values that parsed but do not make sense (TOMLKit keeps no positions of
/// values). A line-based scan: it knows `[table]`, `[[array]]` and `key = ...`,
/// which is how the configuration file is written; anything fancier gets no line.
struct KeyLocator {
    enum Table: Hashable {
        case root
        case defaults
        /// The n-th `[[server]]` (from 0).
        case server(Int)
        case other(String)
    }

    private var keys: [Table: [String: Int]] = [:]
    private var headers: [Table: Int] = [:]

    init(text: String) {
        var table = Table.root
        var servers = 0
        var number = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("[[") {
                let name = Self.headerName(trimmed.dropFirst(2))
                if name == "server" {
                    table = .server(servers)
                    servers += 1
                } else {
                    table = .other(name)
                }
                headers[table] = headers[table] ?? number
            } else if trimmed.hasPrefix("[") {
                let name = Self.headerName(trimmed.dropFirst())
                table = name == "defaults" ? .defaults : .other(name)
                headers[table] = headers[table] ?? number
            } else if let equals = trimmed.firstIndex(of: "="), !trimmed.hasPrefix("#") {
                var key = trimmed[..<equals].strippingBlanks()
                if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
                    key = String(key.dropFirst().dropLast())
                }
                if keys[table, default: [:]][key] == nil { keys[table, default: [:]][key] = number }
            }
        }
    }

    /// The line of `key` in `table`, or of the table's header when key is nil.
    func line(_ table: Table, _ key: String? = nil) -> Int? {
        guard let key else { return headers[table] }
        return keys[table]?[key]
    }

    /// Every key line of a table, keyed by key.
    func lines(of table: Table) -> [String: Int] { keys[table] ?? [:] }

    private static func headerName(_ rest: Substring) -> String {
        let name = rest.prefix { $0 != "]" }
        return name.strippingBlanks()
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func strippingBlanks() -> String {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
