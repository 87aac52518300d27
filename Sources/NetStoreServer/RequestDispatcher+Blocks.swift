import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreStorage

extension RequestDispatcher {
    /// A block's verified bytes for a reader. A damaged (or lost) copy is never
    /// served: a good one is fetched from another server, written over ours, and
    /// served instead; without one the reader gets the error, naming what was tried.
    func readBlockRepairing(_ id: BlockID) async throws -> [UInt8] {
        let store = self.store
        let damage: NetStoreError
        do {
            return try await storage { try store.getBlock(id) }
        } catch let error as NetStoreError where error.code == .corruptBlock || error.code == .noEntry {
            damage = error
        }
        guard let peerBlocks else { throw damage }
        // A block this server never received is not damage: the reader asks another server.
        if damage.code == .noEntry {
            let recorded = try await storage { try store.isRecorded(id) }
            if !recorded { throw damage }
        }
        return try await repairFromPeers(id, damage: damage, peerBlocks)
    }

    private func repairFromPeers(_ id: BlockID, damage: NetStoreError, _ peerBlocks: PeerBlockFetcher) async throws -> [UInt8] {
        logger.error("block damaged on this server; fetching a good copy from a replica",
                     metadata: ["block": "\(id.hex)", "error": "\(damage.message)"])
        let bytes: [UInt8]
        do {
            bytes = try await peerBlocks.fetch(id)
        } catch {
            throw NetStoreError(.corruptBlock, "\(damage.message); \(error.message)")
        }
        let store = self.store
        do {
            try await storage { try bytes.withUnsafeBytes { _ = try store.repairBlock(id, bytes: $0) } }
        } catch {
            // The reader still gets the good copy; `netstore verify` reports the damage.
            logger.error("cannot repair a damaged block", metadata: ["block": "\(id.hex)", "error": "\(error)"])
        }
        return bytes
    }

    /// Admin requests that check and repair this server's block files.
    func respondBlockAdmin(to request: Request, user: UserInfo) async throws -> Response {
        guard user.role == .admin else {
            throw NetStoreError(.accessDenied, "only an admin may check or repair blocks; '\(user.name)' is not an admin")
        }
        let store = self.store
        switch request {
        case let .checkBlocks(after, limit):
            let scan = try await storage { try store.checkBlocks(after: after, limit: Int(limit)) }
            if !scan.missing.isEmpty || !scan.corrupt.isEmpty {
                logger.warning("block check found damage", metadata: [
                    "missing": "\(scan.missing.count)", "corrupt": "\(scan.corrupt.count)"])
            }
            let problems = (scan.missing.map { BlockProblem(id: $0, kind: .missing) }
                + scan.corrupt.map { BlockProblem(id: $0, kind: .corrupt) }).sorted { $0.id < $1.id }
            return .blockCheck(BlockCheckPage(
                checked: UInt32(scan.checked), bytesChecked: scan.bytes, problems: problems,
                last: scan.last, isLast: scan.isLast))
        case let .repairBlock(id, data):
            let replaced = try await storage {
                try data.withUnsafeReadableBytes { try store.repairBlock(id, bytes: $0) }
            }
            if replaced { logger.notice("block repaired", metadata: ["block": "\(id.hex)", "by": "\(user.name)"]) }
            return .repaired(replaced)
        default:
            preconditionFailure("\(request.opcode) is not a block admin request")
        }
    }
}
