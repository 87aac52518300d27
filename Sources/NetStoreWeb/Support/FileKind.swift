import NetStoreCore

/// What a file is, judged by its name's extension: its icon, the Content-Type
/// it is served with, and how its page previews it.
enum FileKind: String, Sendable {
    case directory = "dir", link, image, text, code, pdf, audio, video, archive, other

    var badge: String {
        switch self {
        case .image: "IMG"
        case .text: "TXT"
        case .code: "</>"
        case .pdf: "PDF"
        case .audio: "♪"
        case .video: "▶"
        case .archive: "ZIP"
        default: ""
        }
    }

    static func of(name: String, kind: NodeKind) -> FileKind {
        switch kind {
        case .directory: return .directory
        case .symlink: return .link
        case .fifo, .socket, .characterDevice, .blockDevice: return .other
        case .file: break
        }
        return MediaTypes.entry(for: name)?.kind ?? .other
    }
}

enum MediaTypes {
    struct Entry {
        var type: String
        var kind: FileKind
    }

    private static let table: [String: Entry] = {
        var t: [String: Entry] = [:]
        func add(_ kind: FileKind, _ type: String, _ extensions: String) {
            for ext in extensions.split(separator: " ") { t[String(ext)] = Entry(type: type, kind: kind) }
        }
        add(.image, "image/png", "png")
        add(.image, "image/jpeg", "jpg jpeg")
        add(.image, "image/gif", "gif")
        add(.image, "image/webp", "webp")
        add(.image, "image/svg+xml", "svg")
        add(.image, "image/avif", "avif")
        add(.image, "image/x-icon", "ico")
        add(.image, "image/bmp", "bmp")
        add(.pdf, "application/pdf", "pdf")
        add(.audio, "audio/mpeg", "mp3")
        add(.audio, "audio/ogg", "ogg oga opus")
        add(.audio, "audio/wav", "wav")
        add(.audio, "audio/flac", "flac")
        add(.audio, "audio/mp4", "m4a")
        add(.video, "video/mp4", "mp4 m4v")
        add(.video, "video/webm", "webm")
        add(.video, "video/ogg", "ogv")
        add(.video, "video/quicktime", "mov")
        add(.text, "text/plain", "txt text log md markdown rst csv tsv ini cfg conf toml yaml yml")
        add(.code, "text/plain", "swift c h cc cpp hpp m mm rs go py rb js mjs ts tsx jsx java kt scala cs php pl sh bash zsh fish sql json xml html htm css scss lua r jl hs ml ex exs erl clj vim diff patch make cmake gradle dockerfile")
        add(.archive, "application/zip", "zip")
        add(.archive, "application/gzip", "gz tgz")
        add(.archive, "application/x-tar", "tar")
        add(.archive, "application/x-xz", "xz")
        add(.archive, "application/zstd", "zst")
        return t
    }()

    static func entry(for name: String) -> Entry? {
        let lower = name.lowercased()
        if let dot = lower.lastIndex(of: "."), dot != lower.startIndex {
            return table[String(lower[lower.index(after: dot)...])]
        }
        if ["makefile", "dockerfile", "readme", "license", "changelog"].contains(lower) {
            return Entry(type: "text/plain", kind: .text)
        }
        return nil
    }

    /// The Content-Type a file is served with. Markup (HTML, XML, JS) is served as
    /// plain text: served as itself it would run in this site's origin.
    static func contentType(for name: String) -> String {
        guard let entry = entry(for: name) else { return "application/octet-stream" }
        return entry.type == "text/plain" ? "text/plain; charset=utf-8" : entry.type
    }
}
