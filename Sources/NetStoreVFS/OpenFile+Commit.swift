import Crypto
import NIOCore
import NetStoreClient
import NetStoreCore

extension OpenFile {
    /// Uploads the changed blocks the server lacks and commits the new block
    /// list on the base version (callers hold `lock`). Returns the committed
    /// attributes, or nil when there was nothing to commit. Blocks uploaded
    /// early are trusted to be on the server unless `trustEarlyUploads` is off.
    /// A changed file of one block up to `inlineLimit` bytes goes in one
    /// request, its bytes inline (no query or upload before the commit).
    func commit(
        client: NetStoreClient, cache: BlockCache, parallelism: Int, inlineLimit: Int = 0, trustEarlyUploads: Bool = true
    ) async throws(NetStoreError) -> NodeAttributes? {
        // The commit sends what is left: early uploads stop after their current block.
        let state = self.state.withLock { state in
            state.uploadBacklog = []
            return state
        }
        guard state.needsCommit else { return nil }
        let layout = BlockLayout(size: state.size)
        var ids = [BlockID](repeating: .hole, count: layout.blockCount)
        var changed: [Int] = []
        for index in 0..<layout.blockCount {
            if state.dirty.contains(index) {
                changed.append(index)
            } else if index < state.base.blocks.count, UInt64(index) * blockSize < state.validBase {
                ids[index] = state.base.blocks[index]
            }
        }
        if layout.blockCount == 1, changed == [0], state.size <= UInt64(inlineLimit) {
            return try await commitInline(state, client: client, cache: cache)
        }
        // Batches bound the memory a commit of a huge file needs.
        var start = 0
        while start < changed.count {
            let batch = Array(changed[start..<min(changed.count, start + parallelism)])
            var blocks: [(Int, BlockID, [UInt8])] = []
            for index in batch {
                // Hashed and sent early, unwritten since: neither read nor sent again.
                if trustEarlyUploads, let id = state.hashed[index], id.isHole || isKnownOnServer(id) {
                    ids[index] = id
                    continue
                }
                let range = layout.range(ofBlock: index)
                let bytes = try sparseFile().read(count: Int(range.count), at: range.lowerBound)
                let id = Self.blockID(of: bytes)
                ids[index] = id
                if !id.isHole { blocks.append((index, id, bytes)) }
            }
            try await upload(blocks.map { ($0.1, $0.2) }, client: client, trustEarlyUploads: trustEarlyUploads)
            for (_, id, bytes) in blocks { cache.insertWritten(id, bytes: bytes, fileSize: state.size) }
            start += batch.count
        }
        while let last = ids.last, last.isHole { ids.removeLast() }
        let attributes: NodeAttributes
        do {
            attributes = try await client.commit(node, baseVersion: state.base.version, size: state.size, blocks: ids)
        } catch where error.code == .missingBlocks && trustEarlyUploads {
            // A block sent early is gone (collected, or another primary took over): send again what is lacking.
            self.state.withLock { $0.uploaded = [:] }
            return try await commit(
                client: client, cache: cache, parallelism: parallelism, inlineLimit: inlineLimit, trustEarlyUploads: false)
        } catch where error.code == .versionConflict {
            throw NetStoreError(.versionConflict, "file \(node) was changed elsewhere while open here: its local changes are not saved")
        }
        committed(attributes, from: state, blocks: ids)
        return attributes
    }

    /// Whether the file's whole content is at most one block of up to `limit`
    /// bytes, which a commit or a creation can carry inline.
    func fitsInline(limit: Int) -> Bool {
        snapshot.size <= UInt64(min(limit, Limits.blockSize))
    }

    /// Has the server make the file with its whole content (callers hold `lock`,
    /// and the file fits inline): one request, one change replicated.
    func createInline(_ creation: Creation, client: NetStoreClient, cache: BlockCache) async throws(NetStoreError) -> NodeAttributes {
        let state = snapshot
        let bytes = try wholeContent(state)
        let id = Self.blockID(of: bytes)
        let attributes = try await client.createInline(
            parent: creation.parent, name: creation.name, mode: creation.attributes.mode,
            uid: creation.attributes.uid, gid: creation.attributes.gid, bytes: bytes)
        made(attributes)
        if !id.isHole { cache.insertWritten(id, bytes: bytes, fileSize: state.size) }
        committed(attributes, from: state, blocks: id.isHole ? [] : [id])
        return attributes
    }

    /// The whole content of a new file that fits inline (it has no base to read).
    private func wholeContent(_ state: State) throws(NetStoreError) -> [UInt8] {
        state.local.contains(0) && state.size > 0
            ? try sparseFile().read(count: Int(state.size), at: 0)
            : [UInt8](repeating: 0, count: Int(state.size))
    }

    /// Stages a new file that fits inline (write-back mode; callers hold `lock`):
    /// its content is now what the server is to make, so it has no changes to
    /// commit, and its creation's attributes say its size and time. Returns
    /// the content and its block id.
    func stage(now: Int64) throws(NetStoreError) -> (bytes: [UInt8], id: BlockID) {
        let state = snapshot
        let bytes = try wholeContent(state)
        let id = Self.blockID(of: bytes)
        staged(size: state.size, modifiedNs: state.modifiedNs ?? now)
        let ids = id.isHole ? [] : [id]
        self.state.withLock { current in
            // Version 0 until the server makes it: the file is not open on any server version.
            current.base = FileContent(version: 0, size: state.size, blocks: ids)
            current.validBase = state.size
            current.dirty.subtract(state.dirty)
            current.modifiedNs = nil
        }
        return (bytes, id)
    }

    /// The whole content (block 0) sent with the commit.
    private func commitInline(_ state: State, client: NetStoreClient, cache: BlockCache) async throws(NetStoreError) -> NodeAttributes {
        let bytes = try sparseFile().read(count: Int(state.size), at: 0)
        let id = Self.blockID(of: bytes)
        let attributes: NodeAttributes
        do {
            attributes = try await client.commitInline(node, baseVersion: state.base.version, bytes: bytes)
        } catch where error.code == .versionConflict {
            throw NetStoreError(.versionConflict, "file \(node) was changed elsewhere while open here: its local changes are not saved")
        }
        if !id.isHole { cache.insertWritten(id, bytes: bytes, fileSize: state.size) }
        committed(attributes, from: state, blocks: id.isHole ? [] : [id])
        return attributes
    }

    /// The commit of `state` as `blocks` succeeded: that is the new base.
    private func committed(_ attributes: NodeAttributes, from state: State, blocks ids: [BlockID]) {
        self.state.withLock { now in
            now.base = FileContent(version: attributes.version, size: state.size, blocks: ids)
            now.validBase = state.size
            // Writes made during the upload stay dirty (none can be: callers hold the lock).
            now.dirty.subtract(state.dirty)
            now.modifiedNs = nil
            now.lastCommitted = attributes
            // The commit references them now; later writes make new blocks.
            now.uploaded = [:]
        }
    }

    private func upload(_ blocks: [(BlockID, [UInt8])], client: NetStoreClient, trustEarlyUploads: Bool) async throws(NetStoreError) {
        guard !blocks.isEmpty else { return }
        var unique: [BlockID: [UInt8]] = [:]
        // Blocks whose current content went up early need neither a query nor an upload.
        for (id, bytes) in blocks where !(trustEarlyUploads && isKnownOnServer(id)) { unique[id] = bytes }
        guard !unique.isEmpty else { return }
        let ids = Array(unique.keys)
        let present = try await client.hasBlocks(ids)
        let missing = zip(ids, present).filter { !$0.1 }.map(\.0)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in missing {
                    let data = ByteBuffer(bytes: unique[id]!)
                    group.addTask { try await client.putBlock(id, data: data) }
                }
                try await group.waitForAll()
            }
        } catch {
            throw NetStoreError.wrapping(error)
        }
    }

    /// The SHA-256 of the bytes, or the hole id when they are all zeros (as uploads name them).
    static func blockID(of bytes: [UInt8]) -> BlockID {
        if bytes.allSatisfy({ $0 == 0 }) { return .hole }
        return BlockID(bytes: Array(SHA256.hash(data: bytes)))!
    }
}
