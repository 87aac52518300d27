/// Small inline SVG icons (fixed markup of this module, no data in them).
enum Icons {
    private static func svg(_ body: String, _ cls: String) -> HTML {
        HTML(trusted: "<svg class=\"icon \(cls)\" viewBox=\"0 0 24 24\" aria-hidden=\"true\">\(body)</svg>")
    }

    static let logo = svg("<path d=\"M4 7l8-4 8 4v10l-8 4-8-4z\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/><path d=\"M4 7l8 4 8-4M12 11v10\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/>", "logo")

    static let folder = svg("<path d=\"M3 6a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z\"/>", "k-dir")

    private static let page = "<path d=\"M6 2h8l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2z\"/><path d=\"M14 2v5h5\" fill=\"rgba(255,255,255,.45)\"/>"

    static func file(_ kind: FileKind) -> HTML {
        switch kind {
        case .directory: folder
        case .link: svg(page + "<path d=\"M9 15l6-6M10 9h5v5\" stroke=\"#fff\" stroke-width=\"1.6\" fill=\"none\"/>", "k-link")
        default: svg(page + "<text x=\"12\" y=\"18\" text-anchor=\"middle\" font-size=\"6\" font-family=\"sans-serif\" font-weight=\"700\" fill=\"#fff\">\(kind.badge)</text>", "k-\(kind.rawValue)")
        }
    }
}

extension Icons {
    private static func stroke(_ d: String, _ cls: String) -> HTML {
        HTML(trusted: "<svg class=\"icon \(cls)\" viewBox=\"0 0 24 24\" aria-hidden=\"true\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\"><path d=\"\(d)\"/></svg>")
    }

    static let upload = stroke("M12 16V4M7 9l5-5 5 5M4 20h16", "ui")
    static let download = stroke("M12 4v12M7 11l5 5 5-5M4 20h16", "ui")
    static let rename = stroke("M4 20h4L19 9l-4-4L4 16zM13 7l4 4", "ui")
    static let trash = stroke("M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13", "ui")
}
