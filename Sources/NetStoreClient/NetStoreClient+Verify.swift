import NIOCore
import NetStoreCore
import NetStoreProtocol

/// Admin requests that compare servers and check and repair their blocks.
extension NetStoreClient {
    /// The connected server's state digest and the applied index it was taken at.
    public func digest() async throws(NetStoreError) -> StateDigest {
        let response = try await send(.digest)
        guard case .digest(let digest) = response else { throw unexpected(response, to: .digest) }
        return digest
    }

    /// Checks up to `limit` of the connected server's referenced blocks after
    /// `after` (`BlockID.hole` first) against their hashes.
    public func checkBlocks(after: BlockID, limit: UInt32 = 1024) async throws(NetStoreError) -> BlockCheckPage {
        let response = try await send(.checkBlocks(after: after, limit: limit))
        guard case .blockCheck(let page) = response else { throw unexpected(response, to: .checkBlocks) }
        return page
    }

    /// Gives the connected server a good copy of a block it reported missing or
    /// corrupt; returns false when its own copy was good (it is never replaced).
    @discardableResult
    public func repairBlock(_ id: BlockID, data: ByteBuffer) async throws(NetStoreError) -> Bool {
        let response = try await send(.repairBlock(id: id, data: data))
        guard case .repaired(let replaced) = response else { throw unexpected(response, to: .repairBlock) }
        return replaced
    }
}
