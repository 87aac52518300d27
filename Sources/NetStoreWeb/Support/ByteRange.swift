/// A `Range` header's single byte range (RFC 9110 §14), resolved against a size.
enum ByteRange {
    enum Outcome: Equatable {
        /// No usable range: send the whole file (200).
        case whole
        /// Send these bytes (206).
        case partial(Range<UInt64>)
        /// The range starts beyond the end (416).
        case unsatisfiable
    }

    /// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n`. Several ranges, other
    /// units and malformed headers are ignored (the whole file is sent), as the
    /// RFC allows.
    static func resolve(_ header: String?, size: UInt64) -> Outcome {
        guard let header else { return .whole }
        let text = header.trimmingSpaces
        guard text.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = text.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let startText = spec[..<dash]
        let endText = spec[spec.index(after: dash)...]
        if startText.isEmpty {
            guard let suffix = UInt64(endText) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial((size - min(suffix, size))..<size)
        }
        guard let start = UInt64(startText) else { return .whole }
        guard start < size else { return .unsatisfiable }
        if endText.isEmpty { return .partial(start..<size) }
        guard let end = UInt64(endText), end >= start else { return .whole }
        return .partial(start..<(min(end, size - 1) + 1))
    }
}
