import NetStoreTestSupport
import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

@Suite("Small files reach the backups with the append that commits them")
struct SmallFileReplicationTests {
    @Test("inline commits and creates are replicated with their blocks: no backup is sent replicaPutBlock, and each serves every file")
    func carriedWithTheirCommit() async throws {
        let cluster = try await Cluster(extraArguments: ["--metrics-listen", "127.0.0.1:0"])
        var metricsPorts: [Int] = []
        for server in cluster.servers {
            guard let match = server.output.firstMatch(of: /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/),
                  let port = Int(match.1) else { throw TestFailure("no metrics address in:\n\(server.output)") }
            metricsPorts.append(port)
        }
        let primary = try RawConnection(port: cluster.ports[0])
        let session = try rawLogin(primary, "admin", ServerProcess.adminPassword)
        var files: [(NodeID, [UInt8])] = []
        for index in 0..<12 {
            // Distinct bytes, so that no block is stored already.
            let bytes = (0..<(1000 + 500 * index)).map { UInt8(truncatingIfNeeded: $0 * 7 + index) }
            if index % 2 == 1 {
                // Made with its content in one request (one log entry).
                guard case .success(.attributes(let made)) = try primary.call(.createInline(
                    parent: session.user.rootNode, name: "small-\(index)", mode: 0o644, uid: 0, gid: 0, data: ByteBuffer(bytes: bytes))),
                    made.size == UInt64(bytes.count) else {
                    throw TestFailure("createInline of small-\(index) failed")
                }
                files.append((made.id, bytes))
                continue
            }
            guard case .success(.attributes(let created)) = try primary.call(.create(
                parent: session.user.rootNode, name: "small-\(index)", mode: 0o644, uid: 0, gid: 0)) else {
                throw TestFailure("create small-\(index) failed")
            }
            guard case .success = try primary.call(.commitInline(node: created.id, baseVersion: created.version, data: ByteBuffer(bytes: bytes))) else {
                throw TestFailure("commitInline of small-\(index) failed")
            }
            files.append((created.id, bytes))
        }

        for (offset, port) in cluster.ports.enumerated().dropFirst() {
            let backup = try RawConnection(port: port)
            var content: [UInt8] = []
            // Every file committed on the backup and read from it alone (its own blocks).
            let replicated = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
                guard case .success = try backup.call(.auth(token: session.token)) else { return false }
                for (node, bytes) in files {
                    guard case .success(.content(let listed)) = try backup.call(.getContent(node: node)),
                          listed.size == UInt64(bytes.count), let block = listed.blocks.first,
                          case .success(.block(let data)) = try backup.call(.getBlock(id: block)) else { return false }
                    content = Array(data.readableBytesView)
                    guard content == bytes else { return false }
                }
                return true
            }
            #expect(replicated, "every small file is on the backup on port \(port)")
            let samples = try scrape(port: metricsPorts[offset])
            #expect((samples[#"netstore_requests_total{opcode="replicateWithBlocks",result="ok"}"#] ?? 0) >= 1,
                    "the backup on port \(port) got the blocks with the appends: \(samples.filter { $0.key.contains("replica") })")
            #expect(samples[#"netstore_requests_total{opcode="replicaPutBlock",result="ok"}"#] == nil,
                    "no block was sent after a refused append: \(samples.filter { $0.key.contains("replica") })")
        }
    }

    /// A cluster, the admin's connection to its primary and session, and the
    /// file "taken" made in its root with createInline ("first", mode 0600, uid 1, gid 2).
    static func clusterWithTakenName() async throws -> (Cluster, RawConnection, SessionInfo, NodeAttributes) {
        let cluster = try await Cluster()
        let primary = try RawConnection(port: cluster.ports[0])
        let session = try rawLogin(primary, "admin", ServerProcess.adminPassword)
        let root = session.user.rootNode
        guard case .success(.attributes(let first)) = try primary.call(.createInline(
            parent: root, name: "taken", mode: 0o600, uid: 1, gid: 2, data: ByteBuffer(bytes: Array("first".utf8)))) else {
            throw TestFailure("the first createInline failed")
        }
        return (cluster, primary, session, first)
    }

    @Test("createInline refuses a taken name or a bad one and changes nothing")
    func createInlineRefusals() async throws {
        let (cluster, primary, session, first) = try await Self.clusterWithTakenName()
        defer { withExtendedLifetime(cluster) {} }
        let root = session.user.rootNode
        #expect(first.kind == .file && first.mode & 0o7777 == 0o600 && first.uid == 1 && first.gid == 2)
        guard case .failure(let taken) = try primary.call(.createInline(
            parent: root, name: "taken", mode: 0o644, uid: 0, gid: 0, data: ByteBuffer(bytes: Array("second".utf8)))) else {
            throw TestFailure("a taken name was accepted")
        }
        #expect(taken.code == .exists)
        for bad in ["a/b", "..", "", "nul\u{0}"] {
            guard case .failure(let error) = try primary.call(.createInline(
                parent: root, name: bad, mode: 0o644, uid: 0, gid: 0, data: ByteBuffer(bytes: [1]))) else {
                throw TestFailure("the name \(bad.debugDescription) was accepted")
            }
            #expect(error.code == .invalid || error.code == .protocolError, "\(bad.debugDescription): \(error)")
        }
        guard case .success(.content(let content)) = try primary.call(.getContent(node: first.id)) else {
            throw TestFailure("getContent failed")
        }
        #expect(content.size == 5 && content.version == first.version)
        guard case .success(.page(let page)) = try primary.call(.readdir(directory: root, cookie: 0, limit: 100)) else {
            throw TestFailure("readdir failed")
        }
        #expect(page.entries.map(\.name) == ["taken"])
    }

    @Test("a batch of new files: each made or refused on its own, and all of them on every backup")
    func createInlineBatch() async throws {
        let (cluster, primary, session, _) = try await Self.clusterWithTakenName()
        let root = session.user.rootNode
        func file(_ name: String, _ bytes: [UInt8]) -> InlineFile {
            InlineFile(parent: root, name: name, mode: 0o640, uid: 7, gid: 8, data: ByteBuffer(bytes: bytes))
        }
        let contents: [String: [UInt8]] = Dictionary(uniqueKeysWithValues: (0..<40).map { index in
            ("batch-\(index)", (0..<(100 * index)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ index) })
        })
        let names = contents.keys.sorted()
        var files = names.map { file($0, contents[$0]!) }
        files.insert(file("taken", Array("second".utf8)), at: 3)
        files.insert(file("a/b", [1]), at: 10)
        guard case .success(.outcomes(let outcomes)) = try primary.call(.createInlineBatch(files: files)) else {
            throw TestFailure("the batch was refused")
        }
        #expect(outcomes.count == files.count)
        for (index, (sent, outcome)) in zip(files, outcomes).enumerated() {
            switch (index, outcome) {
            case (3, .failure(let error)): #expect(error.code == .exists, "\(error)")
            case (10, .failure(let error)): #expect(error.code == .invalid, "\(error)")
            case (3, _), (10, _): Issue.record("\(sent.name) was made")
            case (_, .failure(let error)): Issue.record("\(sent.name) was refused: \(error)")
            case (_, .success(let made)):
                #expect(made.size == UInt64(sent.data.readableBytes) && made.mode & 0o7777 == 0o640 && made.uid == 7 && made.gid == 8)
            }
        }

        // Every backup lists the same files and serves each one's content from its own blocks.
        for port in cluster.ports.dropFirst() {
            let backup = try RawConnection(port: port)
            let replicated = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
                guard case .success = try backup.call(.auth(token: session.token)),
                      case .success(.page(let page)) = try backup.call(.readdir(directory: root, cookie: 0, limit: 1000)),
                      Set(page.entries.map(\.name)) == Set(names + ["taken"]) else { return false }
                for entry in page.entries where entry.name != "taken" {
                    guard case .success(.contentInline(_, let data)) = try backup.call(.getContentInline(node: entry.attributes.id)),
                          Array(data.readableBytesView) == contents[entry.name]! else { return false }
                }
                return true
            }
            #expect(replicated, "the backup on port \(port) has every file the batch made, and nothing else")
        }
    }
}
