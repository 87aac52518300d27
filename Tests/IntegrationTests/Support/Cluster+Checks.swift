import Foundation
import NetStoreCore
import NetStoreTestSupport
import Testing

/// Checks of the shared three-server `Cluster` that need this target's helpers.
extension Cluster {
    /// Each server's digest, asked with an admin token over a raw connection.
    func digests(token: String) throws -> [StateDigest] {
        try ports.map { port in
            let raw = try RawConnection(port: port)
            guard case .success(.session) = try raw.call(.auth(token: token)) else {
                throw TestFailure("AUTH on port \(port) failed")
            }
            guard case let .success(.digest(digest)) = try raw.call(.digest) else {
                throw TestFailure("DIGEST on port \(port) failed")
            }
            return digest
        }
    }

    /// Waits until every server reports the same digest; returns the last ones read.
    func convergedDigests(token: String) async throws -> (converged: Bool, digests: [StateDigest]) {
        var digests: [StateDigest] = []
        let converged = try await waitUntil(timeout: .seconds(60), interval: .milliseconds(200)) {
            // A backup that has not yet applied the login's session refuses the token: not converged yet.
            guard let current = try? self.digests(token: token) else { return false }
            digests = current
            return Set(digests).count == 1
        }
        return (converged, digests)
    }

    /// Reads every file from each server on its own and checks its SHA-256.
    func expectOnEveryServer(_ files: [(name: String, sha: String)], configDirectory: URL) throws {
        for (index, address) in addresses.enumerated() {
            let reader = CLI(server: address, configDirectory: configDirectory)
            for file in files {
                let out = dir.path("out-\(index)")
                let get = try reader.run("get", file.name, out.path)
                #expect(get.succeeded, "get \(file.name) from \(address): \(get.stderr)")
                if get.succeeded { #expect(try sha256(of: out) == file.sha, "\(file.name) on \(address)") }
                try? FileManager.default.removeItem(at: out)
            }
        }
    }
}
