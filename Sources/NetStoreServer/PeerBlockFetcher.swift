import Logging
import NIOCore
import NetStoreClient
import NetStoreCore
import NetStoreProtocol
import NetStoreStorage
import NetStoreTLS

/// Fetches good copies of blocks from the other servers of the cluster, so a
/// server can repair a damaged copy of its own instead of serving it. Each
/// fetch opens its own short connection, authenticated with the cluster key:
/// damage is rare, and a persistent connection would only wait idle.
public final class PeerBlockFetcher: Sendable {
    public let peers: [ServerAddress]
    private let clusterKey: String
    private let timeout: Duration
    /// With TLS, this server's certificate is presented and the peer's verified.
    private let tls: ClientTLS?
    private let logger: Logger

    public init(peers: [ServerAddress], clusterKey: String, timeout: Duration = .seconds(3), tls: ClientTLS? = nil, logger: Logger) {
        self.peers = peers
        self.tls = tls
        self.clusterKey = clusterKey
        self.timeout = timeout
        self.logger = logger
    }

    /// A copy of the block whose bytes hash to `id`, from the first peer that has
    /// one. Throws `.corruptBlock` naming every peer's answer when none has.
    public func fetch(_ id: BlockID) async throws(NetStoreError) -> [UInt8] {
        var failures: [String] = []
        for peer in peers {
            do throws(NetStoreError) {
                let bytes = try await fetch(id, from: peer)
                guard BlockStore.id(of: bytes) == id else {
                    throw NetStoreError(.corruptBlock, "its copy fails the hash check too")
                }
                return bytes
            } catch {
                logger.warning("a replica could not supply a block", metadata: [
                    "block": "\(id.hex)", "replica": "\(peer)", "error": "\(error.message)"])
                failures.append("\(peer): \(error.message)")
            }
        }
        let tried = failures.isEmpty ? "this server knows no other server" : failures.joined(separator: "; ")
        throw NetStoreError(.corruptBlock, "no other server supplied a good copy of block \(id.hex) (\(tried))")
    }

    private func fetch(_ id: BlockID, from peer: ServerAddress) async throws(NetStoreError) -> [UInt8] {
        let connection = try await Connection.connect(to: peer, timeout: timeout, tls: tls, logger: logger)
        do throws(NetStoreError) {
            _ = try await connection.send(.auth(token: clusterKey))
            let response = try await connection.send(.replicaGetBlock(id: id))
            await connection.close()
            guard case .block(var data) = response else {
                throw NetStoreError(.protocolError, "\(peer) answered REPLICA_GET_BLOCK with something other than a block")
            }
            return data.readBytes(length: data.readableBytes) ?? []
        } catch {
            await connection.close()
            throw error
        }
    }
}
