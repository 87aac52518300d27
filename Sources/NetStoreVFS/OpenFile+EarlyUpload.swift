import NIOCore
import NetStoreClient
import NetStoreCore

extension OpenFile {
    /// How long a block uploaded early is trusted to still be on the server:
    /// well inside the server's default grace for unreferenced blocks (an hour).
    static let earlyUploadTrust: Duration = .seconds(30 * 60)

    /// Starts uploading, in the background, the dirty blocks a write just
    /// completed (those ending inside `written`), so that a commit has only the
    /// rest left to send. At most `limit` uploads run per file; the blocks past
    /// that wait in a backlog the running ones take from. Never fails: the
    /// commit hashes every changed block again and uploads whatever the server
    /// still lacks.
    func startEarlyUploads(completedBy written: Range<UInt64>, client: NetStoreClient, cache: BlockCache, limit: Int) {
        let first = Int(written.lowerBound / blockSize)
        // Blocks below this one end at or before the end of the write.
        let pastLast = Int(written.upperBound / blockSize)
        guard pastLast > first, limit > 0 else { return }
        for index in first..<pastLast {
            let start = state.withLock { state -> Bool in
                guard isComplete(index, in: state) else { return false }
                guard state.uploadsInFlight < limit else {
                    state.uploadBacklog.insert(index)
                    return false
                }
                state.uploadsInFlight += 1
                return true
            }
            guard start else { continue }
            Task.detached { [self] in
                var next: Int? = index
                while let current = next {
                    await uploadEarly(current, client: client, cache: cache)
                    next = state.withLock { state -> Int? in
                        while let waiting = state.uploadBacklog.popFirst() {
                            if isComplete(waiting, in: state) { return waiting }
                        }
                        state.uploadsInFlight -= 1
                        return nil
                    }
                }
            }
        }
    }

    /// A dirty block the file's size covers whole: what a writer is done with, most likely.
    private func isComplete(_ index: Int, in state: State) -> Bool {
        state.dirty.contains(index) && UInt64(index + 1) * blockSize <= state.size
    }

    /// Hashes block `index` as it is now and sends it if the server lacks it.
    /// A write racing with the read only makes the uploaded block useless: the
    /// hash is kept for the commit only if no write or truncate came between.
    private func uploadEarly(_ index: Int, client: NetStoreClient, cache: BlockCache) async {
        do {
            let token = state.withLock { ($0.blockWrites[index] ?? 0, $0.truncations) }
            let bytes = try sparseFile().read(count: Int(blockSize), at: UInt64(index) * blockSize)
            let id = Self.blockID(of: bytes)
            state.withLock { state in
                if (state.blockWrites[index] ?? 0, state.truncations) == token { state.hashed[index] = id }
            }
            guard !id.isHole, !isKnownOnServer(id) else { return }
            if try await client.hasBlocks([id]) != [true] {
                try await client.putBlock(id, data: ByteBuffer(bytes: bytes))
            }
            // The commit, which no longer reads this block, would have cached it.
            cache.insertWritten(id, bytes: bytes, fileSize: snapshot.size)
            let now = ContinuousClock.now
            state.withLock { $0.uploaded[id] = now }
        } catch {
            // Left to the commit, which reports what still fails.
        }
    }

    /// Whether `id` was uploaded early recently enough to be still on the server.
    func isKnownOnServer(_ id: BlockID) -> Bool {
        guard let at = state.withLock({ $0.uploaded[id] }) else { return false }
        return at.duration(to: .now) < Self.earlyUploadTrust
    }
}
