import NetStoreCore
import NetStoreReplication
import NetStoreStorage

/// The blocks log entries refer to: what a server must hold before it takes them.
enum EntryBlocks {
    /// The blocks the entries refer to, each once, in order.
    static func referenced(by entries: some Sequence<LogEntry>) -> [BlockID] {
        var wanted: [BlockID] = []
        var seen = Set<BlockID>()
        for entry in entries {
            for id in mutation(of: entry)?.referencedBlocks ?? [] where seen.insert(id).inserted { wanted.append(id) }
        }
        return wanted
    }

    /// Whether no entry refers to a block (mkdir, unlink, rename...): such an
    /// append cannot be refused for missing blocks, so it needs no reply.
    static func noneReferenced(by entries: some Sequence<LogEntry>) -> Bool {
        entries.allSatisfy { mutation(of: $0)?.referencedBlocks.isEmpty ?? true }
    }

    /// A malformed entry refers to nothing; it applies as an error everywhere.
    private static func mutation(of entry: LogEntry) -> Mutation? {
        entry.isTermStart ? nil : try? MutationCodec.decode(entry.payload)
    }
}
