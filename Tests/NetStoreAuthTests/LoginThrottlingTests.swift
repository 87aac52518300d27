import NetStoreAuth
import NetStoreCore
import Testing

/// Throttling as LOGIN applies it (the policy itself: LoginThrottleTests).
@Suite struct LoginThrottlingTests {
    @Test func repeatedFailuresAreThrottledAndASuccessResets() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        for _ in 0..<5 {
            await #expect(throws: NetStoreError(.badCredentials, "wrong user name or password")) {
                try await f.accounts.login(user: "alice", password: "guess", source: "203.0.113.5")
            }
        }
        // Even the right password must wait now, from any address.
        let refused = try await #require(throws: NetStoreError.self) {
            try await f.accounts.login(user: "alice", password: "alice's password", source: "198.51.100.1")
        }
        #expect(refused == NetStoreError(.tooManyAttempts, "too many failed logins for user 'alice': try again in 1 s"))

        f.clock.advance(seconds: 1)
        _ = try await f.accounts.login(user: "alice", password: "alice's password", source: "198.51.100.1")
        // The success cleared the count: four more failures are free again.
        for _ in 0..<4 {
            await #expect(throws: NetStoreError(.badCredentials, "wrong user name or password")) {
                try await f.accounts.login(user: "alice", password: "guess", source: "198.51.100.1")
            }
        }
        _ = try await f.accounts.login(user: "alice", password: "alice's password", source: "198.51.100.1")
    }

    @Test func concurrentGuessesCannotSlipPastTheLimit() async throws {
        let f = try AccountFixture()
        _ = try await f.accounts.addUser(name: "alice", password: "alice's password", role: .user)
        let accounts = f.accounts
        let codes = await withTaskGroup(of: ErrorCode?.self) { group in
            for i in 0..<20 {
                group.addTask {
                    do {
                        _ = try await accounts.login(user: "alice", password: "guess \(i)", source: "addr\(i)")
                        return nil
                    } catch let error as NetStoreError {
                        return error.code
                    } catch {
                        return .io
                    }
                }
            }
            return await group.reduce(into: [ErrorCode?]()) { $0.append($1) }
        }
        // The clock does not move, so only the five free attempts check a password.
        #expect(codes.filter { $0 == .badCredentials }.count == 5)
        #expect(codes.filter { $0 == .tooManyAttempts }.count == 15)
    }
}
