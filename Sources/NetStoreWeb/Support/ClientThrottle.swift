import Synchronization

/// Counts failed logins per browser address. Every web login reaches the
/// cluster from this viewer's address, so the cluster's own throttle cannot
/// tell browsers apart; this one can. After `maxFailures` failures from one
/// address within `windowNs`, further logins from it are refused (without
/// asking the cluster) until that window has passed.
///
/// Each admitted attempt counts as a failure up front, so that many attempts
/// sent at once cannot all slip past the limit; `recordSuccess` takes it back.
/// A success does not forget earlier failures: one account an attacker holds
/// must not reset the count for guesses at the others.
final class ClientThrottle: Sendable {
    struct Policy: Sendable, Hashable {
        var maxFailures: Int
        var windowNs: Int64
        /// At most this many addresses are tracked; the stalest go first.
        var maxEntries: Int

        init(maxFailures: Int = 10, window: Duration = .seconds(15 * 60), maxEntries: Int = 10_000) {
            precondition(maxFailures > 0 && window > .zero && maxEntries > 0)
            self.maxFailures = maxFailures
            self.windowNs = Int64(window.components.seconds) * 1_000_000_000 + window.components.attoseconds / 1_000_000_000
            self.maxEntries = maxEntries
        }
    }

    enum Decision: Sendable, Hashable {
        case allowed
        case refused(retryAfterSeconds: Int64)
    }

    private struct Entry {
        /// Start of the window the failures fall in.
        var startNs: Int64
        var failures: Int
    }

    let policy: Policy
    private let entries = Mutex<[String: Entry]>([:])

    init(policy: Policy) {
        self.policy = policy
    }

    var trackedCount: Int { entries.withLock { $0.count } }

    /// Whether `address` may try a password now; if so, counts the attempt as a failure.
    func admit(_ address: String, now: Int64) -> Decision {
        let policy = self.policy
        return entries.withLock { entries in
            if var entry = entries[address], now - entry.startNs < policy.windowNs {
                if entry.failures >= policy.maxFailures {
                    let remainingNs = entry.startNs + policy.windowNs - now
                    return .refused(retryAfterSeconds: max(1, (remainingNs + 999_999_999) / 1_000_000_000))
                }
                entry.failures += 1
                entries[address] = entry
                return .allowed
            }
            if entries[address] == nil, entries.count >= policy.maxEntries {
                Self.makeRoom(&entries, now: now, policy: policy)
            }
            entries[address] = Entry(startNs: now, failures: 1)
            return .allowed
        }
    }

    /// The password was right: takes back the failure `admit` counted.
    func recordSuccess(_ address: String) {
        entries.withLock { entries in
            guard var entry = entries[address] else { return }
            entry.failures -= 1
            entries[address] = entry.failures > 0 ? entry : nil
        }
    }

    /// The attempt never reached a password check (the cluster was unreachable):
    /// it does not count either.
    func recordNotChecked(_ address: String) {
        recordSuccess(address)
    }

    /// Drops addresses whose window has passed, and if that is not enough, the oldest one.
    private static func makeRoom(_ entries: inout [String: Entry], now: Int64, policy: Policy) {
        entries = entries.filter { now - $0.value.startNs < policy.windowNs }
        if entries.count >= policy.maxEntries, let oldest = entries.min(by: { $0.value.startNs < $1.value.startNs }) {
            entries[oldest.key] = nil
        }
    }
}
