import NIOPosix
import NetStoreCore
import NetStoreStorage

/// Applies operations to the local store on the storage threads, off the event
/// loops: a single server without a log.
struct PooledSubmitter: MutationSubmitter {
    let store: Store
    let threadPool: NIOThreadPool

    func submit(_ operation: Mutation) async throws -> MutationResult {
        try await threadPool.runIfActive { [store] in try store.apply(operation) }
    }

    func submit(_ operation: Mutation, origin: UInt64?, storing blocks: [(id: BlockID, bytes: [UInt8])],
                now: Int64) async throws -> MutationResult {
        try await threadPool.runIfActive { [store] in
            try store.putHashedSmallBlocks(blocks, now: now)
            return try store.apply(operation)
        }
    }
}
