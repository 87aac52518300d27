import NetStoreAuth
import Testing

@Suite struct LoginThrottleTests {
    static let second: Int64 = 1_000_000_000

    /// Admits and fails `count` attempts at `now`, expecting each to be allowed.
    func fail(_ throttle: inout LoginThrottle, user: String, source: String, count: Int, now: Int64) {
        for _ in 0..<count {
            #expect(throttle.admit(user: user, source: source, now: now) == .allowed)
        }
    }

    @Test func fiveFailuresAreFreeThenTheDelayDoublesUpToAMinute() {
        var throttle = LoginThrottle()
        var now: Int64 = 1_000 * Self.second
        fail(&throttle, user: "bob", source: "10.0.0.1", count: 5, now: now)
        var expectedDelay = Self.second
        for _ in 0..<10 {
            let refused = throttle.admit(user: "bob", source: "10.0.0.2", now: now)
            #expect(refused == .refused(subject: "user 'bob'", retryAtNs: now + expectedDelay))
            // Still refused a moment before the delay is over; a refusal does not lengthen it.
            #expect(throttle.admit(user: "bob", source: "10.0.0.2", now: now + expectedDelay - 1) != .allowed)
            now += expectedDelay
            #expect(throttle.admit(user: "bob", source: "10.0.0.2", now: now) == .allowed)
            expectedDelay = min(expectedDelay * 2, 60 * Self.second)
        }
        #expect(expectedDelay == 60 * Self.second)
        #expect(throttle.delayNs(afterFailures: 4) == 0)
        #expect(throttle.delayNs(afterFailures: 5) == Self.second)
        #expect(throttle.delayNs(afterFailures: 7) == 4 * Self.second)
        #expect(throttle.delayNs(afterFailures: 500) == 60 * Self.second)
    }

    @Test func aSuccessClearsTheUsersCount() {
        var throttle = LoginThrottle()
        let now: Int64 = 50 * Self.second
        fail(&throttle, user: "bob", source: "a", count: 4, now: now)
        #expect(throttle.admit(user: "bob", source: "b", now: now) == .allowed)
        throttle.recordSuccess(user: "bob", source: "b")
        fail(&throttle, user: "bob", source: "c", count: 5, now: now)
        #expect(throttle.admit(user: "bob", source: "c", now: now) != .allowed)
    }

    @Test func failuresFromOneAddressAcrossUsersAreThrottled() {
        var throttle = LoginThrottle()
        let now: Int64 = 50 * Self.second
        for user in ["u1", "u2", "u3", "u4", "u5"] {
            fail(&throttle, user: user, source: "192.0.2.9", count: 1, now: now)
        }
        #expect(throttle.admit(user: "u6", source: "192.0.2.9", now: now)
                == .refused(subject: "address 192.0.2.9", retryAtNs: now + Self.second))
        // Another address may still try that name.
        #expect(throttle.admit(user: "u6", source: "192.0.2.10", now: now) == .allowed)
    }

    @Test func failuresAreForgottenAfterAQuietPeriod() {
        var throttle = LoginThrottle(policy: .init(forgetAfterNs: 600 * Self.second))
        let now: Int64 = 50 * Self.second
        fail(&throttle, user: "bob", source: "a", count: 5, now: now)
        #expect(throttle.admit(user: "bob", source: "b", now: now + 599 * Self.second) == .allowed)
        // The quiet period counts from the last failure.
        #expect(throttle.admit(user: "bob", source: "b", now: now + 600 * Self.second) != .allowed)
        fail(&throttle, user: "bob", source: "a", count: 5, now: now + 1199 * Self.second)
    }

    @Test func memoryStaysBoundedAndTheStalestEntriesGo() {
        var throttle = LoginThrottle(policy: .init(maxEntries: 10))
        for i in 0..<100 {
            fail(&throttle, user: "user\(i)", source: "addr\(i)", count: 1, now: Int64(i) * Self.second)
        }
        #expect(throttle.trackedCount <= 10)
        // The newest survive: user99 has one failure, four more reach the limit.
        fail(&throttle, user: "user99", source: "x", count: 4, now: 100 * Self.second)
        #expect(throttle.admit(user: "user99", source: "y", now: 100 * Self.second) != .allowed)
    }
}
