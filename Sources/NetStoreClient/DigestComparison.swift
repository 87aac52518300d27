import NetStoreCore

/// How one server's state digest compares with the others'. Digests are only
/// comparable at the same applied index, so servers are compared at the
/// highest index any of them reached; one still below it is `behind`.
public enum DigestVerdict: Sendable, Hashable {
    /// Same digest as most servers at the same index.
    case agrees
    /// At the same index as the others, but a different digest: its state diverged.
    case differs
    /// Servers at the same index disagree with no majority: which one is right is unknown.
    case undecided
    /// Its applied index is below the others' (it had not caught up).
    case behind(appliedIndex: UInt64, others: UInt64)
    /// No digest (the server could not be asked).
    case unknown

    public var isGood: Bool { self == .agrees }
}

public enum DigestComparison {
    /// One verdict per digest, in order; nil stands for a server that could not be asked.
    public static func evaluate(_ digests: [StateDigest?]) -> [DigestVerdict] {
        guard let target = digests.compactMap({ $0?.appliedIndex }).max() else {
            return digests.map { _ in .unknown }
        }
        var votes: [[UInt8]: Int] = [:]
        for case let digest? in digests where digest.appliedIndex == target { votes[digest.sha256, default: 0] += 1 }
        let most = votes.values.max() ?? 0
        let leaders = votes.filter { $0.value == most }
        // A lone server is its own majority; two that disagree have none.
        let reference = leaders.count == 1 ? leaders.first?.key : nil
        return digests.map { digest in
            guard let digest else { return .unknown }
            if digest.appliedIndex < target { return .behind(appliedIndex: digest.appliedIndex, others: target) }
            guard let reference else { return .undecided }
            return digest.sha256 == reference ? .agrees : .differs
        }
    }

    /// True when every server reached the same applied index.
    public static func atSameIndex(_ digests: [StateDigest?]) -> Bool {
        Set(digests.compactMap { $0?.appliedIndex }).count <= 1
    }
}
