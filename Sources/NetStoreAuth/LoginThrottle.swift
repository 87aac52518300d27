/// Slows down password guessing: counts recent failed logins per user name and per
/// source address, and after `freeFailures` of them makes each further attempt wait
/// an exponentially growing delay (1 s, 2 s, 4 s ... capped at 60 s).
///
/// An attempt made before its delay is over is refused at once (`.tooManyAttempts`
/// with the time to retry) rather than held: a waiting login would tie up a
/// connection, and a refusal is cheap and tells the user exactly when to come back.
/// A refused attempt does not check the password and does not lengthen the delay.
///
/// Pure logic: the caller passes the time. Every admitted attempt is counted as a
/// failure up front, so that many attempts started at once cannot all slip past the
/// limit; `recordSuccess` takes it back.
public struct LoginThrottle: Sendable {
    public struct Policy: Sendable, Hashable {
        /// Failures allowed before any delay.
        public var freeFailures: Int
        public var initialDelayNs: Int64
        public var maxDelayNs: Int64
        /// A name or address with no failure for this long starts afresh.
        public var forgetAfterNs: Int64
        /// At most this many names and addresses are tracked; the stalest go first.
        public var maxEntries: Int

        public init(
            freeFailures: Int = 5, initialDelayNs: Int64 = 1_000_000_000, maxDelayNs: Int64 = 60_000_000_000,
            forgetAfterNs: Int64 = 15 * 60 * 1_000_000_000, maxEntries: Int = 10_000
        ) {
            precondition(freeFailures >= 0 && initialDelayNs > 0 && maxDelayNs >= initialDelayNs && maxEntries > 0)
            self.freeFailures = freeFailures
            self.initialDelayNs = initialDelayNs
            self.maxDelayNs = maxDelayNs
            self.forgetAfterNs = forgetAfterNs
            self.maxEntries = maxEntries
        }
    }

    public enum Decision: Sendable, Hashable {
        case allowed
        /// `subject` names what is throttled ("user 'bob'", "address 10.0.0.7").
        case refused(subject: String, retryAtNs: Int64)
    }

    enum Key: Hashable {
        case user(String)
        case source(String)

        var subject: String {
            switch self {
            case .user(let name): "user '\(name)'"
            case .source(let address): "address \(address)"
            }
        }
    }

    struct Entry {
        var failures: Int
        var lastFailureNs: Int64
    }

    public let policy: Policy
    private(set) var entries: [Key: Entry] = [:]

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Number of names and addresses tracked (bounded by `policy.maxEntries`).
    public var trackedCount: Int { entries.count }

    /// Decides whether an attempt may check a password now; if so, counts it as a failure.
    public mutating func admit(user: String, source: String, now: Int64) -> Decision {
        var refusal: (subject: String, retryAtNs: Int64)?
        for key in [Key.user(user), Key.source(source)] {
            guard let retryAt = retryAt(key, now: now), retryAt > now else { continue }
            if refusal == nil || retryAt > refusal!.retryAtNs { refusal = (key.subject, retryAt) }
        }
        if let refusal { return .refused(subject: refusal.subject, retryAtNs: refusal.retryAtNs) }
        recordFailure(.user(user), now: now)
        recordFailure(.source(source), now: now)
        return .allowed
    }

    /// The password was right: forgets the user's failures, and takes back the failure
    /// `admit` counted for the address. The address's earlier failures stay, so that one
    /// account an attacker controls cannot reset the count for the others.
    public mutating func recordSuccess(user: String, source: String) {
        entries[.user(user)] = nil
        if var entry = entries[.source(source)] {
            entry.failures -= 1
            entries[.source(source)] = entry.failures > 0 ? entry : nil
        }
    }

    /// The delay owed after `failures` consecutive failures.
    public func delayNs(afterFailures failures: Int) -> Int64 {
        guard failures >= policy.freeFailures else { return 0 }
        var delay = policy.initialDelayNs
        var doublings = failures - policy.freeFailures
        while doublings > 0 && delay < policy.maxDelayNs {
            delay *= 2
            doublings -= 1
        }
        return min(delay, policy.maxDelayNs)
    }

    // MARK: internals

    private func retryAt(_ key: Key, now: Int64) -> Int64? {
        guard let entry = entries[key], !isForgotten(entry, now: now) else { return nil }
        let delay = delayNs(afterFailures: entry.failures)
        return delay == 0 ? nil : entry.lastFailureNs + delay
    }

    private func isForgotten(_ entry: Entry, now: Int64) -> Bool {
        now - entry.lastFailureNs >= policy.forgetAfterNs
    }

    private mutating func recordFailure(_ key: Key, now: Int64) {
        if var entry = entries[key], !isForgotten(entry, now: now) {
            entry.failures += 1
            entry.lastFailureNs = max(entry.lastFailureNs, now)
            entries[key] = entry
            return
        }
        if entries[key] == nil && entries.count >= policy.maxEntries { makeRoom(now: now) }
        entries[key] = Entry(failures: 1, lastFailureNs: now)
    }

    /// Drops forgotten entries, and if that is not enough, the one with the oldest failure.
    private mutating func makeRoom(now: Int64) {
        entries = entries.filter { !isForgotten($0.value, now: now) }
        if entries.count >= policy.maxEntries,
           let oldest = entries.min(by: { $0.value.lastFailureNs < $1.value.lastFailureNs }) {
            entries[oldest.key] = nil
        }
    }
}
