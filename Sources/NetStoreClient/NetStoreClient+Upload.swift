import Crypto
import NIOCore
import NetStoreCore

public typealias ProgressHandler = @Sendable (TransferProgress) -> Void

extension NetStoreClient {
    /// Uploads a local file as `name` in `parent`, in constant memory.
    ///
    /// Creates the file if it is missing, or gives an existing file a new
    /// version. Reads the local file block by block, hashes each block, asks
    /// the server which blocks it lacks and sends only those, with at most
    /// `blocksInFlight` blocks in memory. Then one COMMIT swaps in the new
    /// block list; it fails with `.versionConflict` if someone else wrote the
    /// file meanwhile. All-zero blocks become holes and are not sent.
    @discardableResult
    public func upload(
        from localPath: String, toParent parent: NodeID, name: String,
        blocksInFlight: Int = 8, progress: ProgressHandler? = nil
    ) async throws(NetStoreError) -> NodeAttributes {
        precondition(blocksInFlight >= 2, "an upload needs at least two blocks in flight")
        let file = try LocalFile(readingAt: localPath)
        defer { file.close() }
        let status = try file.status()
        if status.isDirectory { throw NetStoreError(.isDirectory, "\(localPath): is a directory") }
        guard status.isRegular else { throw NetStoreError(.invalid, "\(localPath): not a regular file") }
        guard status.size <= Limits.maxFileSize else {
            throw NetStoreError(.fileTooBig, "\(localPath): larger than the \(ByteCount.format(Limits.maxFileSize)) a file may hold")
        }
        let target = try await fileNode(parent: parent, name: name, mode: status.mode & 0o777)

        let layout = BlockLayout(size: status.size)
        var ids: [BlockID] = []
        ids.reserveCapacity(layout.blockCount)
        progress?(TransferProgress(bytesDone: 0, totalBytes: layout.size))
        do {
            try await withThrowingTaskGroup(of: UInt64.self) { group in
                // Two batches in flight: one being checked and sent while the next is read.
                let batchSize = blocksInFlight / 2
                var batchesInFlight = 0
                var done: UInt64 = 0
                var index = 0
                let allocator = ByteBufferAllocator()
                while index < layout.blockCount {
                    if batchesInFlight == 2, let bytes = try await group.next() {
                        batchesInFlight -= 1
                        done += bytes
                        progress?(TransferProgress(bytesDone: done, totalBytes: layout.size))
                    }
                    var batch: [(BlockID, ByteBuffer)] = []
                    var batchBytes: UInt64 = 0
                    while batch.count < batchSize, index < layout.blockCount {
                        let range = layout.range(ofBlock: index)
                        let data = try file.read(count: Int(range.count), at: range.lowerBound, allocator: allocator)
                        let id = Self.blockID(of: data)
                        ids.append(id)
                        if !id.isHole { batch.append((id, data)) }
                        batchBytes += UInt64(range.count)
                        index += 1
                    }
                    group.addTask { [batch, batchBytes] in
                        try await self.storeBlocks(batch)
                        return batchBytes
                    }
                    batchesInFlight += 1
                }
                while let bytes = try await group.next() {
                    done += bytes
                    progress?(TransferProgress(bytesDone: done, totalBytes: layout.size))
                }
            }
        } catch {
            throw NetStoreError.from(error)
        }
        do {
            return try await commit(target.id, baseVersion: target.version, size: layout.size, blocks: ids)
        } catch where error.code == .versionConflict {
            throw NetStoreError(.versionConflict, "\(name): changed on the server during the upload: try again")
        }
    }

    /// Uploads to a path: into it under the local file's name if it is a
    /// directory, otherwise as that path (its parent must exist).
    @discardableResult
    public func upload(
        from localPath: String, to path: RemotePath, blocksInFlight: Int = 8, progress: ProgressHandler? = nil
    ) async throws(NetStoreError) -> NodeAttributes {
        var parent: NodeAttributes
        var name: String
        if let existing = try await resolveIfExists(path), existing.kind == .directory {
            let localName = localPath.split(separator: "/").last.map(String.init) ?? localPath
            parent = existing
            name = localName
            _ = try path.appending(name)  // a name the store accepts, with a message naming the path
        } else {
            (parent, name) = try await resolveParent(path)
        }
        return try await upload(
            from: localPath, toParent: parent.id, name: name, blocksInFlight: blocksInFlight, progress: progress)
    }

    /// The block's id: the SHA-256 of its bytes, or the hole id when it is all zeros.
    static func blockID(of data: ByteBuffer) -> BlockID {
        data.withUnsafeReadableBytes { raw -> BlockID in
            if raw.allSatisfy({ $0 == 0 }) { return .hole }
            var hasher = SHA256()
            hasher.update(bufferPointer: raw)
            return BlockID(bytes: Array(hasher.finalize()))!
        }
    }

    /// The existing file to give a new version, or a new empty one.
    private func fileNode(parent: NodeID, name: String, mode: UInt32) async throws(NetStoreError) -> NodeAttributes {
        do throws(NetStoreError) {
            let existing = try await lookup(parent: parent, name: name)
            guard existing.kind == .file else {
                throw existing.kind == .directory
                    ? NetStoreError(.isDirectory, "\(name): is a directory")
                    : NetStoreError(.invalid, "\(name): exists and is not a regular file")
            }
            return existing
        } catch where error.code == .noEntry {
            do {
                return try await create(parent: parent, name: name, mode: mode)
            } catch where error.code == .exists {
                // Created by someone else meanwhile: write a new version of theirs.
                return try await lookup(parent: parent, name: name)
            }
        }
    }

    /// Sends the blocks of one batch that the server lacks, all at once.
    private func storeBlocks(_ batch: [(BlockID, ByteBuffer)]) async throws(NetStoreError) {
        guard !batch.isEmpty else { return }
        var unique: [BlockID: ByteBuffer] = [:]
        for (id, data) in batch { unique[id] = data }
        let ids = Array(unique.keys)
        let present = try await hasBlocks(ids)
        let missing = zip(ids, present).filter { !$0.1 }.map(\.0)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in missing {
                    let data = unique[id]!
                    group.addTask { try await self.putBlock(id, data: data) }
                }
                try await group.waitForAll()
            }
        } catch {
            throw NetStoreError.from(error)
        }
    }
}

extension NetStoreError {
    /// Any error out of a task group: ours as it is, anything else (cancellation) as `.io`.
    static func from(_ error: any Error) -> NetStoreError {
        if let error = error as? NetStoreError { return error }
        if error is CancellationError { return NetStoreError(.io, "cancelled") }
        return NetStoreError(.io, "\(error)")
    }
}
