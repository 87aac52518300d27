import NetStoreCore

/// A path inside an account's tree: "/a/b/c" names c in b in a under the
/// account's root ("a/b/c" means the same). Every component is a valid entry
/// name; "." and ".." and empty components ("a//b") are refused rather than
/// interpreted, so a path can never reach outside the account's root.
public struct RemotePath: Sendable, Hashable, CustomStringConvertible {
    public let components: [String]

    /// The account's root directory.
    public static let root = RemotePath(validated: [])

    public init(_ text: String) throws(NetStoreError) {
        var body = Substring(text)
        if body.hasPrefix("/") { body = body.dropFirst() }
        // One trailing slash is allowed, as shells complete directories that way.
        if body.count > 1, body.hasSuffix("/") { body = body.dropLast() }
        if body.isEmpty {
            self.components = []
            return
        }
        var components: [String] = []
        for part in body.split(separator: "/", omittingEmptySubsequences: false) {
            let name = String(part)
            if name.isEmpty {
                throw NetStoreError(.invalid, "\(text): empty path component: write /a/b, not /a//b")
            }
            if name == "." || name == ".." {
                throw NetStoreError(.invalid, "\(text): '\(name)' is not allowed in a path: write the full path from /")
            }
            do {
                try NameRules.validateEntryName(name)
            } catch {
                throw NetStoreError(error.code, "\(text): \(error.message)")
            }
            components.append(name)
        }
        self.components = components
    }

    init(validated components: [String]) {
        self.components = components
    }

    public var isRoot: Bool { components.isEmpty }

    /// The last component; nil for the root.
    public var name: String? { components.last }

    /// The directory holding this path; the root's parent is the root.
    public var parent: RemotePath { RemotePath(validated: Array(components.dropLast())) }

    /// This path with one more component.
    public func appending(_ name: String) throws(NetStoreError) -> RemotePath {
        do {
            try NameRules.validateEntryName(name)
        } catch {
            throw NetStoreError(error.code, "\(isRoot ? "" : description)/\(name): \(error.message)")
        }
        return RemotePath(validated: components + [name])
    }

    public var description: String { "/" + components.joined(separator: "/") }
}
