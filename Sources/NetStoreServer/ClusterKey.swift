import Foundation
import NetStoreCore

/// The shared secret replicated servers present to each other (AUTH with the key).
public struct ClusterKey: Sendable {
    private let bytes: [UInt8]

    public init(_ key: String) {
        bytes = Array(key.utf8)
    }

    /// Compares in time that depends only on the lengths, not on where they differ.
    public func matches(_ candidate: String) -> Bool {
        let other = Array(candidate.utf8)
        guard other.count == bytes.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(bytes, other) { difference |= a ^ b }
        return difference == 0
    }

    /// Reads a key file: its first line, 16 to 256 bytes.
    public static func read(from url: URL) throws -> String {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw NetStoreError(.noEntry, "cannot read the cluster key file \(url.path): \(error.localizedDescription)")
        }
        let key = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard (16...Limits.maxTokenLength).contains(key.utf8.count) else {
            throw NetStoreError(.invalid, "the cluster key in \(url.path) must be 16 to \(Limits.maxTokenLength) bytes on its first line (e.g. head -c 32 /dev/urandom | base64 > \(url.path))")
        }
        return key
    }
}
