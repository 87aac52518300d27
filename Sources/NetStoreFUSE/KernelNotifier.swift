import CFuse3
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NetStoreVFS

/// Tells the kernel to drop what it cached about inodes and names changed
/// elsewhere, on a serial queue of its own. Never from a Swift-concurrency
/// thread or a FUSE worker: a notification can wait in the kernel for a lock
/// that a request of this mount holds until its reply is sent, and those
/// threads are the ones that send replies.
final class KernelNotifier: @unchecked Sendable {
    private let queue = DispatchQueue(label: "netstore.kernel-invalidation")
    private let logger: Logger
    /// Touched only on `queue`: nil before the mount and once it is finishing.
    private var session: OpaquePointer?

    init(logger: Logger) {
        self.logger = logger
    }

    /// From now on invalidations go to `session`.
    func attach(_ session: OpaquePointer) {
        queue.sync { self.session = session }
    }

    /// Returns once no invalidation runs or will run: the session may be destroyed.
    func detach() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.session = nil
                continuation.resume()
            }
        }
    }

    /// Queues `work`; returns at once.
    func post(_ work: [KernelInvalidation]) {
        queue.async { self.run(work) }
    }

    private func run(_ work: [KernelInvalidation]) {
        guard let session else { return }
        for item in work {
            let status: Int32
            switch item {
            case .inode(let inode):
                // Offset 0, length 0: the attributes and every cached page.
                status = fuse_lowlevel_notify_inval_inode(session, fuse_ino_t(inode), 0, 0)
            case .entry(let parent, let name):
                status = name.withCString { fuse_lowlevel_notify_inval_entry(session, fuse_ino_t(parent), $0, name.utf8.count) }
            }
            // ENOENT: the kernel had already let go of it.
            if status != 0 && status != -ENOENT {
                logger.debug("the kernel refused an invalidation", metadata: ["what": "\(item)", "errno": "\(-status)"])
            }
        }
    }
}
