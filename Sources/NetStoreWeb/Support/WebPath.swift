import NetStoreClient
import NetStoreCore

/// Maps between URL paths ("/files/My%20Docs/a.txt") and paths in the account's
/// tree. Parsing is strict: each component is percent-decoded on its own, and a
/// component that decodes to something no entry name can be (empty, ".", "..",
/// containing "/" or NUL, not UTF-8) is refused with 400 rather than interpreted,
/// so no URL reaches outside the account's root.
enum WebPath {
    /// The remote path named by what follows `prefix` in a raw (still encoded) URL path.
    static func parse(_ rawPath: String, prefix: String) throws(WebError) -> RemotePath {
        guard rawPath == prefix || rawPath.hasPrefix(prefix + "/") else {
            throw WebError(.notFound, "No such page.")
        }
        var rest = Substring(rawPath.dropFirst(prefix.count))
        if rest.hasPrefix("/") { rest = rest.dropFirst() }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var path = RemotePath.root
        if rest.isEmpty { return path }
        for part in rest.split(separator: "/", omittingEmptySubsequences: false) {
            guard let name = percentDecode(part) else {
                throw WebError(.badRequest, "The address is malformed: a path component is not valid percent-encoded UTF-8.")
            }
            if name.isEmpty { throw WebError(.badRequest, "The address has an empty path component.") }
            if name == "." || name == ".." {
                throw WebError(.badRequest, "The address may not contain “.” or “..” components.")
            }
            if name.utf8.contains(0x2F) || name.utf8.contains(0) {
                throw WebError(.badRequest, "A file name may not contain “/” or NUL.")
            }
            do {
                path = try path.appending(name)
            } catch {
                throw WebError(.badRequest, error.message)
            }
        }
        return path
    }

    /// Parses a path typed into a form ("/a/b" or "a/b"), as RemotePath does.
    static func parseTyped(_ text: String) throws(WebError) -> RemotePath {
        do {
            return try RemotePath(text.trimmingSpaces)
        } catch {
            throw WebError(.badRequest, error.message)
        }
    }

    /// The URL for a remote path under `prefix`, every component percent-encoded.
    static func url(_ prefix: String, _ path: RemotePath, trailingSlash: Bool = false) -> String {
        var url = prefix
        for name in path.components { url += "/" + encodeComponent(name) }
        if trailingSlash || path.isRoot { url += "/" }
        return url
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func encodeComponent(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + hexByte(byte)
            }
        }
        return out
    }

    /// Strict percent-decoding: nil for a bad escape or bytes that are not UTF-8.
    static func percentDecode<S: StringProtocol>(_ text: S, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
