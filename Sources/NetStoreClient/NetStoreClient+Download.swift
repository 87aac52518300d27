#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import NIOCore
import NetStoreCore

extension NetStoreClient {
    /// A block's bytes, checked against its id: a block whose bytes do not
    /// hash to its name is corrupt and is never handed on.
    ///
    /// With several servers, reads spread over all of them (any server's copy
    /// is proven by the hash), and a server that lacks the block or sends a bad
    /// copy is passed over for another: the read fails only if every server fails it.
    public func readBlock(_ id: BlockID) async throws(NetStoreError) -> ByteBuffer {
        if let blockReaders {
            // The session (and its token) comes from the main link, which also says whether we may log in at all.
            var token = self.token
            if token == nil { token = try await link().session?.token }
            if let token, !token.isEmpty { return try await blockReaders.read(id, token: token) }
        }
        let data = try await getBlock(id)
        let actual = BlockReaders.hash(of: data)
        guard actual == id.bytes else {
            let server = currentServer.map { " from \($0)" } ?? ""
            throw NetStoreError(.corruptBlock, "block \(id)\(server) failed its hash check")
        }
        return data
    }

    /// Reads a file's content block by block, in order, fetching up to
    /// `readAhead` blocks ahead. `body` gets each block's span of the file
    /// (`BlockLayout.range(ofBlock:)`): holes, short blocks and a missing tail
    /// read as zeros up to the file's size.
    public func readBlocks(
        of content: FileContent, readAhead: Int = 8,
        _ body: (_ index: Int, _ bytes: ByteBuffer) async throws(NetStoreError) -> Void
    ) async throws(NetStoreError) {
        precondition(readAhead >= 1, "read-ahead must be at least one block")
        let layout = BlockLayout(size: content.size)
        let blocks = content.blocks
        do {
            try await withThrowingTaskGroup(of: (Int, ByteBuffer).self) { group in
                var started = 0
                var delivered = 0
                var arrived: [Int: ByteBuffer] = [:]
                while delivered < layout.blockCount {
                    while started < layout.blockCount, started < delivered + readAhead {
                        let index = started
                        let span = Int(layout.range(ofBlock: index).count)
                        let id = index < blocks.count ? blocks[index] : BlockID.hole
                        group.addTask { (index, try await self.blockSpan(id, span: span)) }
                        started += 1
                    }
                    if let bytes = arrived.removeValue(forKey: delivered) {
                        try await body(delivered, bytes)
                        delivered += 1
                        continue
                    }
                    guard let (index, bytes) = try await group.next() else { break }
                    arrived[index] = bytes
                }
            }
        } catch {
            throw NetStoreError.from(error)
        }
    }

    /// A block cut or padded with zeros to `span` bytes.
    private func blockSpan(_ id: BlockID, span: Int) async throws(NetStoreError) -> ByteBuffer {
        var data = id.isHole ? ByteBuffer() : try await readBlock(id)
        if data.readableBytes > span {
            data = data.getSlice(at: data.readerIndex, length: span)!
        } else if data.readableBytes < span {
            data.writeRepeatingByte(0, count: span - data.readableBytes)
        }
        return data
    }

    /// Downloads a file to `localPath`: writes a temporary file beside it and
    /// renames it into place once every block has arrived and checked out, so
    /// `localPath` never holds a partial or corrupt file.
    @discardableResult
    public func download(
        _ node: NodeAttributes, to localPath: String, readAhead: Int = 8, progress: ProgressHandler? = nil
    ) async throws(NetStoreError) -> FileContent {
        guard node.kind == .file else {
            throw NetStoreError(node.kind == .directory ? .isDirectory : .invalid, "\(localPath): the source is not a regular file")
        }
        let content = try await getContent(node.id)
        let temporary = Self.temporaryPath(beside: localPath)
        let file = try LocalFile(creatingAt: temporary)
        var renamed = false
        defer {
            file.close()
            if !renamed { Glibc.unlink(temporary) }
        }
        var done: UInt64 = 0
        progress?(TransferProgress(bytesDone: 0, totalBytes: content.size))
        try await readBlocks(of: content, readAhead: readAhead) { _, bytes throws(NetStoreError) in
            try file.write(bytes, at: nil)
            done += UInt64(bytes.readableBytes)
            progress?(TransferProgress(bytesDone: done, totalBytes: content.size))
        }
        try file.setMode(node.mode & 0o777)
        try file.sync()
        if Glibc.rename(temporary, localPath) != 0 { throw LocalFile.error(localPath) }
        renamed = true
        return content
    }

    @discardableResult
    public func download(
        _ path: RemotePath, to localPath: String, readAhead: Int = 8, progress: ProgressHandler? = nil
    ) async throws(NetStoreError) -> FileContent {
        let node = try await resolve(path)
        guard node.kind == .file else {
            throw NetStoreError(node.kind == .directory ? .isDirectory : .invalid,
                                "\(path): \(node.kind == .directory ? "is a directory" : "not a regular file")")
        }
        return try await download(node, to: localPath, readAhead: readAhead, progress: progress)
    }

    /// Writes a file's content to an open descriptor (standard output for `cat`), in order.
    public func write(_ node: NodeAttributes, toDescriptor descriptor: Int32, name: String = "standard output") async throws(NetStoreError) {
        guard node.kind == .file else { throw NetStoreError(.isDirectory, "not a regular file") }
        let content = try await getContent(node.id)
        let output = LocalFile(descriptor: descriptor, name: name)
        try await readBlocks(of: content) { _, bytes throws(NetStoreError) in
            try output.write(bytes, at: nil)
        }
    }

    /// ".NAME.netstore-RANDOM" in the destination's directory, so that the
    /// final rename stays within one file system.
    static func temporaryPath(beside path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return "\(directory).\(name).netstore-\(suffix)"
    }
}
