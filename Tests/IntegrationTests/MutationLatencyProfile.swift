import NetStoreTestSupport
import Crypto
import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

/// Times one change at a time against real servers (mkdir, and a 4 KiB file as
/// CREATE, HAS_BLOCKS, PUT_BLOCK, COMMIT) with one server and with three at write
/// quorum 2 and 3, and prints the medians. A measurement, not a check: it runs
/// only with NETSTORE_PROFILE set (NETSTORE_PROFILE_COUNT changes the count).
@Suite("Mutation latency profile", .enabled(if: ProcessInfo.processInfo.environment["NETSTORE_PROFILE"] != nil))
struct MutationLatencyProfile {
    static let count = Int(ProcessInfo.processInfo.environment["NETSTORE_PROFILE_COUNT"] ?? "") ?? 200

    @Test("one server")
    func single() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess(directory: dir)
        defer { server.kill9() }
        try profile("1 server", port: server.port)
    }

    @Test("three servers, write quorum 2")
    func quorum2() async throws {
        let cluster = try await Cluster(extraArguments: ["--write-quorum", "2"])
        try profile("3 servers, quorum 2", port: cluster.ports[0])
    }

    @Test("three servers, write quorum 3")
    func quorum3() async throws {
        let cluster = try await Cluster(extraArguments: ["--write-quorum", "3"])
        try profile("3 servers, quorum 3", port: cluster.ports[0])
    }

    private func profile(_ label: String, port: Int) throws {
        let raw = try RawConnection(port: port)
        guard case .success(.session(let session)) = try raw.call(.login(user: "admin", password: ServerProcess.adminPassword)) else {
            throw TestFailure("login failed")
        }
        let root = session.user.rootNode
        let tag = UUID().uuidString.prefix(8)
        var mkdir: [Duration] = []
        for index in 0..<Self.count {
            let start = ContinuousClock.now
            guard case .success = try raw.call(.mkdir(parent: root, name: "d\(tag)-\(index)", mode: 0o755, uid: 0, gid: 0)) else {
                throw TestFailure("mkdir failed")
            }
            mkdir.append(ContinuousClock.now - start)
        }
        var phases: [String: [Duration]] = [:]
        func timed(_ name: String, _ body: () throws -> Void) rethrows {
            let start = ContinuousClock.now
            try body()
            phases[name, default: []].append(ContinuousClock.now - start)
        }
        for index in 0..<Self.count {
            let start = ContinuousClock.now
            var bytes = [UInt8](repeating: 0, count: 4096)
            withUnsafeBytes(of: (index, tag.hashValue)) { seed in for (i, b) in seed.enumerated() { bytes[i] = b } }
            let id = BlockID(bytes: Array(SHA256.hash(data: bytes)))!
            var node: NodeAttributes?
            try timed("create") {
                guard case .success(.attributes(let created)) = try raw.call(.create(parent: root, name: "f\(tag)-\(index)", mode: 0o644, uid: 0, gid: 0)) else {
                    throw TestFailure("create failed")
                }
                node = created
            }
            try timed("hasBlocks") { _ = try raw.call(.hasBlocks([id])) }
            try timed("putBlock") {
                guard case .success = try raw.call(.putBlock(id: id, data: ByteBuffer(bytes: bytes))) else { throw TestFailure("put failed") }
            }
            try timed("commit") {
                guard case .success = try raw.call(.commit(node: node!.id, baseVersion: node!.version, size: 4096, blocks: [id])) else {
                    throw TestFailure("commit failed")
                }
            }
            phases["file", default: []].append(ContinuousClock.now - start)
        }
        func median(_ values: [Duration]) -> String {
            let sorted = values.sorted()
            let ms = Double(sorted[sorted.count / 2].components.attoseconds) / 1e15 + Double(sorted[sorted.count / 2].components.seconds) * 1000
            return String(format: "%.2f ms", ms)
        }
        var line = "PROFILE \(label): mkdir \(median(mkdir))"
        for name in ["file", "create", "hasBlocks", "putBlock", "commit"] { line += ", \(name) \(median(phases[name]!))" }
        print(line)
        #expect(mkdir.count == Self.count)
    }
}
