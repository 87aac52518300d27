import NIOCore
import NetStoreClient
import NetStoreCore

/// Reads a byte range of a file's content from the cluster, block by block and
/// in order, with a few blocks fetched ahead: memory stays at `readAhead`
/// blocks whatever the file's size. Every block is checked against its hash
/// (`readBlock`); holes and a missing tail read as zeros.
struct BlockStreamer: Sendable {
    let client: NetStoreClient
    let content: FileContent
    let range: Range<UInt64>
    var readAhead = 4

    func forEachChunk(_ body: (ByteBuffer) async throws -> Void) async throws {
        guard !range.isEmpty else { return }
        precondition(range.upperBound <= content.size, "range beyond the end of the file")
        let layout = BlockLayout(size: content.size)
        let blockSize = UInt64(layout.blockSize)
        let first = Int(range.lowerBound / blockSize)
        let last = Int((range.upperBound - 1) / blockSize)
        try await withThrowingTaskGroup(of: (Int, ByteBuffer).self) { group in
            var started = first
            var next = first
            var arrived: [Int: ByteBuffer] = [:]
            while next <= last {
                while started <= last, started < next + readAhead {
                    let index = started
                    group.addTask { (index, try await self.block(index, layout: layout)) }
                    started += 1
                }
                guard let block = arrived.removeValue(forKey: next) else {
                    guard let (index, bytes) = try await group.next() else { break }
                    arrived[index] = bytes
                    continue
                }
                let span = layout.range(ofBlock: next)
                let from = Int(max(range.lowerBound, span.lowerBound) - span.lowerBound)
                let to = Int(min(range.upperBound, span.upperBound) - span.lowerBound)
                try await body(block.getSlice(at: block.readerIndex + from, length: to - from)!)
                next += 1
            }
        }
    }

    /// Block `index` cut or padded with zeros to its span.
    private func block(_ index: Int, layout: BlockLayout) async throws -> ByteBuffer {
        let span = Int(layout.range(ofBlock: index).count)
        let id = index < content.blocks.count ? content.blocks[index] : BlockID.hole
        var data = id.isHole ? ByteBuffer() : try await client.readBlock(id)
        if data.readableBytes > span {
            data = data.getSlice(at: data.readerIndex, length: span)!
        } else if data.readableBytes < span {
            data.writeRepeatingByte(0, count: span - data.readableBytes)
        }
        return data
    }
}
