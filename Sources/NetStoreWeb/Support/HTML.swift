/// A piece of HTML that is safe to send: built only from literal markup and
/// interpolated values that `HTML.escape` has escaped.
///
/// Interpolating a `String` (or anything `CustomStringConvertible`) escapes it;
/// interpolating an `HTML` inserts it as it is. So a file name can reach a page
/// only escaped, and the one escaping function is the only way text becomes markup.
public struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var markup: String

    public init(stringLiteral literal: String) { markup = literal }

    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    /// Markup written in this module's own code (icons, fixed fragments); never for data.
    init(trusted markup: String) { self.markup = markup }

    public var description: String { markup }

    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        public mutating func appendLiteral(_ literal: String) { markup += literal }

        public mutating func appendInterpolation(_ html: HTML) { markup += html.markup }

        public mutating func appendInterpolation(_ html: [HTML]) {
            for part in html { markup += part.markup }
        }

        public mutating func appendInterpolation(_ html: HTML?) {
            if let html { markup += html.markup }
        }

        public mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }

        public mutating func appendInterpolation<T: CustomStringConvertible>(_ value: T) {
            markup += HTML.escape(value.description)
        }
    }

    /// Escapes text for use in element content and in quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(trusted: lhs.markup + rhs.markup) }

    public static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        HTML(trusted: parts.map(\.markup).joined(separator: separator.markup))
    }
}
