import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreServer
import NetStoreStorage
import Testing

@Suite("Block check, repair and damaged reads in the dispatcher")
struct BlockAdminTests {
    /// A committed one-block file (its block a file: more than a small block); returns
    /// the admin's session, the block's bytes and id.
    private func fileWithOneBlock(_ harness: DispatcherHarness) async throws -> (ConnectionSession, [UInt8], BlockID) {
        let (session, info) = try await harness.session("admin", "admin-password")
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let id = BlockStore.id(of: bytes)
        let dispatcher = harness.dispatcher
        #expect(await dispatcher.handle(.putBlock(id: id, data: ByteBuffer(bytes: bytes)), session: session) == .success(.empty))
        guard case let .success(.attributes(file)) = await dispatcher.handle(
            .create(parent: info.user.rootNode, name: "f", mode: 0o644, uid: 0, gid: 0), session: session)
        else { throw NetStoreError(.io, "create failed") }
        guard case .success(.attributes) = await dispatcher.handle(
            .commit(node: file.id, baseVersion: file.version, size: UInt64(bytes.count), blocks: [id]), session: session)
        else { throw NetStoreError(.io, "commit failed") }
        return (session, bytes, id)
    }

    private func flipByte(_ path: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: 10)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 10)
        try handle.write(contentsOf: [byte ^ 0x80])
    }

    @Test("an admin checks and repairs; a damaged block is never served")
    func checkRepairNeverServe() async throws {
        let harness = try await DispatcherHarness()
        let (session, bytes, id) = try await fileWithOneBlock(harness)
        let dispatcher = harness.dispatcher
        let clean = await dispatcher.handle(.checkBlocks(after: .hole, limit: 100), session: session)
        #expect(clean == .success(.blockCheck(BlockCheckPage(
            checked: 1, bytesChecked: UInt64(bytes.count), problems: [], last: id, isLast: true))))

        try flipByte(harness.store.blocks.path(of: id))
        guard case let .success(.blockCheck(page)) = await dispatcher.handle(.checkBlocks(after: .hole, limit: 100), session: session)
        else { Issue.record("check failed"); return }
        #expect(page.problems == [BlockProblem(id: id, kind: .corrupt)])
        // No replica to repair from: the reader gets EIO, not the damaged bytes.
        guard case let .failure(error) = await dispatcher.handle(.getBlock(id: id), session: session)
        else { Issue.record("a damaged block was served"); return }
        #expect(error.code == .corruptBlock)

        let wrong = ByteBuffer(bytes: bytes.map { $0 &+ 1 })
        guard case let .failure(refused) = await dispatcher.handle(.repairBlock(id: id, data: wrong), session: session)
        else { Issue.record("wrong bytes accepted"); return }
        #expect(refused.code == .invalid)
        #expect(await dispatcher.handle(.repairBlock(id: id, data: ByteBuffer(bytes: bytes)), session: session) == .success(.repaired(true)))
        #expect(await dispatcher.handle(.repairBlock(id: id, data: ByteBuffer(bytes: bytes)), session: session) == .success(.repaired(false)))
        #expect(await dispatcher.handle(.getBlock(id: id), session: session) == .success(.block(ByteBuffer(bytes: bytes))))
    }

    @Test("checks and repairs are for admins; REPLICA_GET_BLOCK only for the cluster's servers")
    func permissions() async throws {
        let harness = try await DispatcherHarness()
        let (admin, bytes, id) = try await fileWithOneBlock(harness)
        let dispatcher = harness.dispatcher
        #expect(await dispatcher.handle(.userAdd(name: "bob", password: "bob-password", role: .user), session: admin).isSuccess)
        let (bob, _) = try await harness.session("bob", "bob-password")
        for request in [Request.checkBlocks(after: .hole, limit: 1), .repairBlock(id: id, data: ByteBuffer(bytes: bytes))] {
            guard case let .failure(error) = await dispatcher.handle(request, session: bob)
            else { Issue.record("\(request.opcode) allowed to a user"); continue }
            #expect(error.code == .accessDenied)
        }
        guard case let .failure(error) = await dispatcher.handle(.replicaGetBlock(id: id), session: admin)
        else { Issue.record("REPLICA_GET_BLOCK served to a user session"); return }
        #expect(error.code == .notSupported || error.code == .accessDenied)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { true } else { false }
    }
}
