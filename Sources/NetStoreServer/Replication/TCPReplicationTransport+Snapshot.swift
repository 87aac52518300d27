import Foundation
import NIOCore
import NetStoreClient
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage

// The primary's side of a snapshot transfer (docs/replication.md, "Snapshots").
extension TCPReplicationTransport {
    /// Bytes per `snapshotChunk`: well inside a frame.
    static let snapshotChunkSize = 1 << 20
    /// A transfer that makes no progress for this long is given up; the replica
    /// asks for a new snapshot after its own timeout.
    static let snapshotPatience: Duration = .seconds(10)

    /// Writes the body, then offers it, sends what the backup lacks of it, and the
    /// `installSnapshot` message (whose answer asks for the blocks the backup
    /// lacks, as for an append). A broken connection is opened again and the
    /// transfer resumes: the backup says how much of the body it holds, and blocks
    /// it stored already are not asked for again.
    func sendSnapshot(_ snapshot: StoreSnapshot, header: SnapshotHeader, to peer: Peer, connection: inout Connection?) async {
        let url = outgoingDirectory.appendingPathComponent("\(peer.id).snapshot")
        defer { try? FileManager.default.removeItem(at: url) }
        let info: SnapshotFileInfo
        do {
            info = try await threadPool.runIfActive { [outgoingDirectory] in
                defer { snapshot.close() }
                try FileManager.default.createDirectory(at: outgoingDirectory, withIntermediateDirectories: true)
                return try snapshot.write(to: url)
            }
        } catch {
            snapshot.close()
            logger.error("cannot write a snapshot for \(peer.id)", metadata: ["error": "\(error)"])
            return
        }
        let offer = SnapshotOffer(
            position: LogPosition(index: LogIndex(info.appliedIndex), term: Term(info.appliedTerm)),
            size: info.size, sha256: info.sha256)
        logger.notice("sending a snapshot", metadata: [
            "peer": "\(peer.id) \(peer.address)", "position": "\(offer.position)", "bytes": "\(info.size)",
            "blocks": "\(info.blocks.count)"])
        var lastProgress = ContinuousClock.now
        var bodyBytesSent: UInt64 = 0
        var blocksSent = 0
        while !Task.isCancelled, ContinuousClock.now - lastProgress < Self.snapshotPatience {
            do {
                let open = try await connected(connection, to: peer)
                connection = open
                var held = try await received(open.send(.snapshotBegin(from: selfID.rawValue, offer: offer)), from: peer)
                lastProgress = .now
                while held < offer.size {
                    let chunk = try read(url, at: held, count: min(Self.snapshotChunkSize, Int(offer.size - held)))
                    let request = Request.snapshotChunk(from: selfID.rawValue, sha256: offer.sha256, offset: held, data: ByteBuffer(bytes: chunk))
                    let now = try await received(open.send(request), from: peer)
                    if now > held { bodyBytesSent += now - held }
                    held = now
                    lastProgress = .now
                }
                // Each round of missing blocks is progress; nil: the backup still lacks some.
                guard let sent = try await deliver(.installSnapshot(header), to: peer, over: open) else {
                    throw NetStoreError(.missingBlocks, "\(peer.address) still lacks blocks of the snapshot")
                }
                blocksSent += sent
                peer.reachable.withLock { $0 = true }
                logger.notice("snapshot sent", metadata: [
                    "peer": "\(peer.id) \(peer.address)", "position": "\(offer.position)",
                    "body-bytes-sent": "\(bodyBytesSent)", "blocks-sent": "\(blocksSent)"])
                return
            } catch {
                await lost(&connection, peer, error)
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        logger.warning("snapshot transfer given up; the primary will offer another", metadata: [
            "peer": "\(peer.id) \(peer.address)", "position": "\(offer.position)"])
    }

    private func received(_ response: Response, from peer: Peer) throws -> UInt64 {
        guard case .snapshotReceived(let bytes) = response else {
            throw NetStoreError(.protocolError, "\(peer.address) answered a snapshot request with \(response)")
        }
        return bytes
    }

    private func read(_ url: URL, at offset: UInt64, count: Int) throws -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw NetStoreError(.io, "the snapshot file \(url.path) is shorter than written") }
            return [UInt8](data)
        } catch let error as NetStoreError {
            throw error
        } catch {
            throw NetStoreError(.io, "cannot read the snapshot file \(url.path): \(error.localizedDescription)")
        }
    }
}
