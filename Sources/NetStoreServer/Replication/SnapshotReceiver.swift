import Foundation
import Logging
import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage
import Synchronization

/// A backup's side of a snapshot transfer (docs/replication.md, "Snapshots"): the
/// body is staged in a file under the data directory, named by its position and
/// SHA-256, so a transfer cut by a lost connection or a restart resumes where it
/// stopped. Once the body is complete, hashed and every block it refers to is
/// here, the `installSnapshot` message is handed to the replica, and the engine
/// installs the staged body.
final class SnapshotReceiver: Sendable {
    let directory: URL
    let logger: Logger
    private let state = Mutex<Staged?>(nil)

    struct Staged: Sendable {
        var offer: SnapshotOffer
        var url: URL
        var received: UInt64
        /// Set once the complete body was read back and its hash checked.
        var info: SnapshotFileInfo?
        /// The blocks before this one in `info.blocks` are known to be stored here.
        var checkedBlocks = 0
    }

    init(dataDirectory: URL, logger: Logger) {
        directory = dataDirectory.appendingPathComponent("snapshot-incoming")
        self.logger = logger
    }

    private func url(for offer: SnapshotOffer) -> URL {
        let hex = offer.sha256.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return directory.appendingPathComponent("\(offer.position.index.rawValue)-\(offer.position.term.rawValue)-\(hex).snapshot")
    }

    /// How many bytes of the offered body are staged here already: a body of another
    /// hash is discarded, a file left by an earlier run of this server is resumed.
    func begin(_ offer: SnapshotOffer) throws -> UInt64 {
        try state.withLock { staged in
            if let current = staged, current.offer == offer { return current.received }
            let url = url(for: offer)
            let fm = FileManager.default
            var kept: UInt64 = 0
            if let size = (try? fm.attributesOfItem(atPath: url.path))?[.size] as? UInt64, size <= offer.size {
                kept = size
            }
            for name in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] where name != url.lastPathComponent {
                try? fm.removeItem(at: directory.appendingPathComponent(name))
            }
            if kept == 0 {
                do {
                    try fm.createDirectory(at: directory, withIntermediateDirectories: true)
                } catch {
                    throw NetStoreError(.io, "cannot create \(directory.path) for a snapshot: \(error.localizedDescription)")
                }
                guard fm.createFile(atPath: url.path, contents: nil) else {
                    throw NetStoreError(.io, "cannot create the snapshot file \(url.path): check the data directory's space and permissions")
                }
            }
            staged = Staged(offer: offer, url: url, received: kept)
            logger.info("receiving a snapshot", metadata: [
                "position": "\(offer.position)", "bytes": "\(offer.size)", "held": "\(kept)"])
            return kept
        }
    }

    /// Writes bytes at `offset` if that is where the staged body ends; returns how
    /// much is staged now (the sender continues from there).
    func append(sha256: [UInt8], offset: UInt64, data: [UInt8]) throws -> UInt64 {
        try state.withLock { staged in
            guard var current = staged, current.offer.sha256 == sha256 else {
                throw NetStoreError(.invalid, "no snapshot with that hash is being received: begin it first (snapshotBegin)")
            }
            guard offset == current.received else { return current.received }
            guard offset + UInt64(data.count) <= current.offer.size else {
                throw NetStoreError(.invalid, "a chunk at \(offset) of \(data.count) bytes runs past the snapshot's \(current.offer.size) bytes")
            }
            do {
                let handle = try FileHandle(forWritingTo: current.url)
                defer { try? handle.close() }
                try handle.truncate(atOffset: offset)
                try handle.write(contentsOf: data)
            } catch {
                throw NetStoreError(.io, "cannot write the snapshot file \(current.url.path): \(error.localizedDescription)")
            }
            current.received += UInt64(data.count)
            staged = current
            return current.received
        }
    }

    /// Before the install message goes to the replica: the body must be complete
    /// and intact, and every block it refers to stored here. Returns blocks still
    /// missing (at most one query's worth; the sender sends them and asks again).
    func prepareInstall(_ header: SnapshotHeader, store: Store, now: Int64) throws -> [BlockID] {
        try state.withLock { staged in
            guard var current = staged, current.offer.position == header.position,
                  current.received == current.offer.size else {
                throw NetStoreError(.tryAgain, "the snapshot at \(header.position) has not been received in full: send its body first")
            }
            if current.info == nil {
                let info = try? Store.inspectSnapshot(at: current.url)
                guard let info, info.sha256 == current.offer.sha256, info.appliedIndex == header.position.index.rawValue,
                      info.appliedTerm == header.position.term.rawValue else {
                    try? FileManager.default.removeItem(at: current.url)
                    staged = nil
                    throw NetStoreError(.protocolError, "the snapshot at \(header.position) arrived damaged or does not match its offer: it was discarded; send it again")
                }
                current.info = info
            }
            let blocks = current.info!.blocks
            var missing: [BlockID] = []
            var index = current.checkedBlocks
            while index < blocks.count, missing.count < Limits.maxHashesPerQuery {
                let chunk = Array(blocks[index..<min(blocks.count, index + Limits.maxHashesPerQuery)])
                for (id, present) in zip(chunk, try store.hasBlocks(chunk, now: now)) {
                    if !present { missing.append(id) } else if missing.isEmpty { current.checkedBlocks += 1 }
                }
                index += chunk.count
            }
            staged = current
            return Array(missing.prefix(Limits.maxHashesPerQuery))
        }
    }

    /// The complete staged body for `position`, if there is one.
    func stagedFile(for position: LogPosition) -> URL? {
        state.withLock { staged in
            guard let current = staged, current.offer.position == position, current.received == current.offer.size else { return nil }
            return current.url
        }
    }

    /// Forgets the staged body (installed, or found unusable).
    func discard() {
        state.withLock { staged in
            if let current = staged { try? FileManager.default.removeItem(at: current.url) }
            staged = nil
        }
    }
}
