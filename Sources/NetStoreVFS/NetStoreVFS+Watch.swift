import NetStoreClient
import NetStoreCore
import NetStoreProtocol

/// What the kernel must drop after a change made elsewhere: an inode's
/// attributes and cached pages, or a name in a directory (kernel inode numbers).
public enum KernelInvalidation: Sendable, Hashable {
    case inode(UInt64)
    case entry(parent: UInt64, name: String)
}

extension NetStoreVFS {
    /// Seconds the kernel and this layer may keep attributes and names now:
    /// long while the watch for changes is live, short otherwise.
    public var cacheTimeout: Double {
        Self.cacheTimeout(configuration, watchLive: client.isWatchLive)
    }

    static func cacheTimeout(_ configuration: VFSConfiguration, watchLive: Bool) -> Double {
        if watchLive, let watched = configuration.watchedAttributeTimeout { return watched }
        return configuration.attributeTimeout
    }

    /// Watches for changes made elsewhere (if `watchedAttributeTimeout` is
    /// set): each notice drops what this layer cached about it, and
    /// `invalidate` is handed what the kernel must drop. It is called on a
    /// network thread and must not block (the kernel calls go to a thread of
    /// their own: they may wait for a reply to a request of this very mount).
    public func startWatching(_ invalidate: @escaping @Sendable ([KernelInvalidation]) -> Void) {
        guard configuration.watchedAttributeTimeout != nil else { return }
        client.watchChanges { [weak self] notices in
            guard let self else { return }
            let work = self.dropCached(notices)
            if !work.isEmpty { invalidate(work) }
        }
    }

    /// Drops what `notices` make stale and returns what the kernel must drop,
    /// leaving out what the kernel does not hold (inodes it has forgotten).
    /// A reset drops everything: every inode the kernel holds, every name
    /// this layer still had valid.
    public func dropCached(_ notices: [ChangeNotice]) -> [KernelInvalidation] {
        var work: [KernelInvalidation] = []
        var seen = Set<KernelInvalidation>()
        func add(_ item: KernelInvalidation) {
            if seen.insert(item).inserted { work.append(item) }
        }
        for notice in notices {
            switch notice {
            case .node(let node):
                attributes.remove(node)
                let inode = inodes.inode(of: node)
                if inodes.isKnown(inode) { add(.inode(inode)) }
            case .entry(let parent, let name):
                entries.changedElsewhere(parent: parent, name: name)
                let inode = inodes.inode(of: parent)
                if inodes.isKnown(inode) { add(.entry(parent: inode, name: name)) }
            case .reset, .ended:
                attributes.removeAll()
                for (parent, name) in entries.forgetAll() {
                    let inode = inodes.inode(of: parent)
                    if inodes.isKnown(inode) { add(.entry(parent: inode, name: name)) }
                }
                for inode in inodes.knownInodes { add(.inode(inode)) }
            }
        }
        return work
    }
}
