import NetStoreCore
import NetStoreProtocol
import NetStoreReplication
import NetStoreStorage

/// Which blocks travel with an append: those of the small files its entries
/// commit or create. A backup lacks a new small file's block (nothing forwards it ahead,
/// unlike a large file's), so without them every such append would be refused
/// once, then followed by the block and by the append again.
enum CarriedBlocks {
    /// A file this large or smaller has its blocks carried (the mount commits
    /// files up to this size inline).
    static let fileSizeLimit = UInt64(Limits.inlineContentLimit)
    /// At most this many bytes of blocks go with one append, well within a frame
    /// beside the entries (`TCPReplicationTransport.split` keeps those to half of one).
    static let byteBudget: UInt64 = UInt64(Limits.maxFrameSize / 4)

    /// The blocks to carry with `message`, each once, in entry order.
    static func ids(for message: ReplicationMessage) -> [BlockID] {
        guard case .append(let append) = message else { return [] }
        var ids: [BlockID] = []
        var seen = Set<BlockID>()
        var bytes: UInt64 = 0
        for entry in append.entries {
            for (size, blocks) in smallFiles(of: entry) {
                let fresh = blocks.filter { !$0.isHole && !seen.contains($0) }
                guard !fresh.isEmpty else { continue }
                // The file's size bounds its blocks' bytes.
                guard bytes + size <= byteBudget, ids.count + fresh.count <= Limits.maxCarriedBlocks else { return ids }
                bytes += size
                for id in fresh where seen.insert(id).inserted { ids.append(id) }
            }
        }
        return ids
    }

    /// The bytes of blocks `entry` would have carried (its small files' sizes).
    static func bytes(of entry: LogEntry) -> UInt64 {
        smallFiles(of: entry).reduce(0) { $0 + $1.size }
    }

    /// The files up to `fileSizeLimit` that `entry` commits or creates.
    private static func smallFiles(of entry: LogEntry) -> [(size: UInt64, blocks: [BlockID])] {
        guard !entry.isTermStart else { return [] }
        let files: [(size: UInt64, blocks: [BlockID])]
        switch try? MutationCodec.decode(entry.payload) {
        case let .commit(_, _, _, s, b, _)?, let .createFile(_, _, _, _, _, _, s, b, _)?: files = [(s, b)]
        case let .createFiles(_, made, _)?: files = made.map { ($0.size, $0.blocks) }
        default: files = []
        }
        return files.filter { $0.size <= fileSizeLimit }
    }
}
