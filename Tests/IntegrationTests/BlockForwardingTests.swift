import NetStoreTestSupport
import Crypto
import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

@Suite("Blocks reach the backups while a file is still being written")
struct BlockForwardingTests {
    @Test("blocks a client puts to the primary appear on each backup without a commit; the primary counts them")
    func forwardedBeforeCommit() async throws {
        let cluster = try await Cluster(extraArguments: ["--metrics-listen", "127.0.0.1:0"])
        guard let match = cluster.primary.output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/),
              let metricsPort = Int(match.1) else { throw TestFailure("no metrics address in:\n\(cluster.primary.output)") }
        let primary = try RawConnection(port: cluster.ports[0])
        let token = try rawLogin(primary, "admin", ServerProcess.adminPassword).token

        // No COMMIT names these blocks, so only forwarding can bring them to a backup.
        let ids = try putBlocks(8, seed: 0, to: primary)

        // A block a client puts to a backup stays there: only the primary forwards.
        let strayBytes = [UInt8](repeating: 0xA5, count: 4096)
        let stray = BlockID(bytes: Array(SHA256.hash(data: strayBytes)))!
        let firstBackup = try RawConnection(port: cluster.ports[1])

        for port in cluster.ports.dropFirst() {
            let backup = port == cluster.ports[1] ? firstBackup : try RawConnection(port: port)
            // The login is a replicated change: the backup knows the token once it applies it.
            let authenticated = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
                if case .success = try backup.call(.auth(token: token)) { return true }
                return false
            }
            #expect(authenticated, "the backup on port \(port) accepts the admin's token")
            var presence: [Bool] = []
            let arrived = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
                guard case .success(.presence(let flags)) = try backup.call(.hasBlocks(ids)) else { return false }
                presence = flags
                return flags.count == ids.count && flags.allSatisfy { $0 }
            }
            #expect(arrived, "every block is on the backup on port \(port): \(presence)")
        }
        guard case .success = try firstBackup.call(.putBlock(id: stray, data: ByteBuffer(bytes: strayBytes))) else {
            throw TestFailure("PUT_BLOCK to a backup failed")
        }
        let otherBackup = try RawConnection(port: cluster.ports[2])
        guard case .success = try otherBackup.call(.auth(token: token)) else { throw TestFailure("AUTH on the second backup") }
        // The early blocks took well under this to arrive; a forwarded one would too.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try otherBackup.call(.hasBlocks([stray])) == .success(.presence([false])), "a backup forwards nothing")
        #expect(try primary.call(.hasBlocks([stray])) == .success(.presence([false])), "nor to the primary")

        // A block is counted once the backup's answer is back, a moment after HAS_BLOCKS sees it.
        var samples: [String: Double] = [:]
        let counted = try await waitUntil(timeout: .seconds(5), interval: .milliseconds(50)) {
            samples = try scrape(port: metricsPort)
            return samples["netstore_replication_blocks_forwarded_total"] == Double(2 * ids.count)
        }
        #expect(counted, "each block forwarded once to each backup: \(samples.filter { $0.key.contains("forward") })")
        #expect(samples["netstore_replication_blocks_forward_dropped_total"] == 0)
    }

    @Test("a backup that dies has its blocks dropped and counted, PUT_BLOCK still succeeds, and forwarding resumes when it returns")
    func backupDown() async throws {
        let cluster = try await Cluster(extraArguments: ["--metrics-listen", "127.0.0.1:0"])
        guard let match = cluster.primary.output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/),
              let metricsPort = Int(match.1) else { throw TestFailure("no metrics address in:\n\(cluster.primary.output)") }
        let primary = try RawConnection(port: cluster.ports[0])
        let token = try rawLogin(primary, "admin", ServerProcess.adminPassword).token
        var samples: [String: Double] = [:]
        func counted(forwarded: Int, dropped: Int) async throws -> Bool {
            try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
                samples = try scrape(port: metricsPort)
                return samples["netstore_replication_blocks_forwarded_total"] == Double(forwarded)
                    && samples["netstore_replication_blocks_forward_dropped_total"] == Double(dropped)
            }
        }
        _ = try putBlocks(2, seed: 100, to: primary)
        #expect(try await counted(forwarded: 4, dropped: 0), "both connections open: \(samples.filter { $0.key.contains("forward") })")

        cluster.servers[2].kill9()
        _ = try putBlocks(4, seed: 200, to: primary)
        #expect(try await counted(forwarded: 8, dropped: 4),
                "forwarded to the live backup, dropped for the dead one: \(samples.filter { $0.key.contains("forward") })")

        try await cluster.servers[2].start()
        let returned = try RawConnection(port: cluster.ports[2])
        var seed = 300
        var put: [BlockID] = []
        let resumed = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            put += try putBlocks(1, seed: seed, to: primary)
            seed += 1
            // The returned backup learns the token as it catches up with the log.
            guard case .success = try returned.call(.auth(token: token)),
                  case .success(.presence(let flags)) = try returned.call(.hasBlocks(put)) else { return false }
            return flags.contains(true)
        }
        #expect(resumed, "blocks put after the backup returned reach it without a commit")
    }
}

/// Puts `count` distinct 256 KiB blocks with PUT_BLOCK (no commit); returns their ids.
private func putBlocks(_ count: Int, seed: Int, to connection: RawConnection) throws -> [BlockID] {
    var ids: [BlockID] = []
    for index in seed..<(seed + count) {
        var bytes = [UInt8](repeating: 0, count: 256 << 10)
        for offset in stride(from: 0, to: bytes.count, by: 97) { bytes[offset] = UInt8(truncatingIfNeeded: offset &* 31 &+ index) }
        bytes[0] = UInt8(truncatingIfNeeded: index)
        bytes[1] = UInt8(truncatingIfNeeded: index >> 8)
        let id = BlockID(bytes: Array(SHA256.hash(data: bytes)))!
        guard case .success = try connection.call(.putBlock(id: id, data: ByteBuffer(bytes: bytes))) else {
            throw TestFailure("PUT_BLOCK \(index) failed")
        }
        ids.append(id)
    }
    return ids
}
