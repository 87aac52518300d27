import CFuse3
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NetStoreCore
import NetStoreVFS
import Synchronization

/// A mounted NetStore: the libfuse session, its mount point and its loop.
///
/// `mount()` mounts; `run()` serves on a thread of its own until `stop()`
/// (from a signal handler's task) or an unmount (`fusermount3 -u`); then the
/// caller calls `finish()`, which commits every dirty file and unmounts.
public final class FUSESession: @unchecked Sendable {
    /// The mount options always used: the kernel checks permissions as on a
    /// local file system, and the mount is named after NetStore.
    public static let baseOptions = ["default_permissions", "fsname=netstore", "subtype=netstore"]

    public let mountpoint: String
    private let adapter: FUSEAdapter
    private let notifier: KernelNotifier
    private let logger: Logger
    private let options: [String]
    // Touched by mount/run/finish (one caller, in order) and read by stop().
    private let session = Mutex<SessionPointer?>(nil)
    private let loopThread = Mutex<pthread_t?>(nil)
    private let stopping = Atomic<Bool>(false)

    /// `options`: extra mount options (`allow_other`, `ro`, ...), passed to libfuse as they are.
    public init(vfs: NetStoreVFS, mountpoint: String, options: [String] = [], logger: Logger) {
        self.adapter = FUSEAdapter(vfs: vfs, logger: logger)
        self.notifier = KernelNotifier(logger: logger)
        self.mountpoint = mountpoint
        self.options = options
        self.logger = logger
    }

    public func mount() throws(NetStoreError) {
        let arguments = ["netstore-mount", "-o", (Self.baseOptions + options).joined(separator: ",")]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let created = argv.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            var args = fuse_args(argc: Int32(arguments.count), argv: buffer.baseAddress, allocated: 0)
            var ops = FUSEOperations.table()
            let userData = Unmanaged.passUnretained(adapter).toOpaque()
            let session = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userData)
            fuse_opt_free_args(&args)
            return session
        }
        guard let created else {
            throw NetStoreError(.invalid, "libfuse refused the mount options \(options.joined(separator: ",")): see its message above")
        }
        // Resolved before the mount covers it (a lookup after would ask this mount).
        if let resolved = realpath(mountpoint, nil) {
            adapter.raiseReadAheadAtFirstOpen(mountpoint: String(cString: resolved))
            free(resolved)
        }
        guard fuse_session_mount(created, mountpoint) == 0 else {
            fuse_session_destroy(created)
            throw NetStoreError(.io, "cannot mount on \(mountpoint): see the message above (is /dev/fuse there, and fusermount3 installed?)")
        }
        session.withLock { $0 = SessionPointer(raw: created) }
        // Changes made elsewhere drop the kernel's caches from now on.
        notifier.attach(created)
        adapter.vfs.startWatching { [notifier] work in notifier.post(work) }
        // SIGUSR1 wakes the loop thread out of its wait once stop() has marked the session exited.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGUSR1, &action, nil)
    }

    /// Serves kernel requests until stopped or unmounted; returns libfuse's status.
    public func run() async -> Int32 {
        guard let se = session.withLock({ $0 })?.raw else { preconditionFailure("run() before mount()") }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let context = LoopContext(session: se, continuation: continuation)
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<LoopContext>.fromOpaque(raw!).takeRetainedValue()
                var config = fuse_loop_config(clone_fd: 0, max_idle_threads: 16)
                let status = fuse_session_loop_mt_32(context.session, &config)
                context.continuation.resume(returning: status)
                return nil
            }, Unmanaged.passRetained(context).toOpaque())
            if started != 0 {
                continuation.resume(returning: -1)
                return
            }
            loopThread.withLock { $0 = thread }
            if stopping.load(ordering: .acquiring) { stop() }
        }
    }

    /// Makes `run()` return (SIGINT, SIGTERM). Safe to call more than once.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        guard let se = session.withLock({ $0 })?.raw else { return }
        fuse_session_exit(se)
        if let thread = loopThread.withLock({ $0 }) { pthread_kill(thread, SIGUSR1) }
    }

    /// After `run()`: waits for requests under way, commits every dirty file,
    /// unmounts and frees the session. Returns how many files could not be saved.
    public func finish() async -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while adapter.requestsInFlight > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let failed = await adapter.vfs.flushAll()
        await notifier.detach()
        let taken: SessionPointer? = session.withLock { value in
            let current = value
            value = nil
            return current
        }
        if let se = taken?.raw {
            fuse_session_unmount(se)
            fuse_session_destroy(se)
        }
        return failed
    }
}

/// libfuse's session, shared by the loop thread and whoever stops it.
private struct SessionPointer: @unchecked Sendable {
    let raw: OpaquePointer
}

private final class LoopContext: @unchecked Sendable {
    let session: OpaquePointer
    let continuation: CheckedContinuation<Int32, Never>

    init(session: OpaquePointer, continuation: CheckedContinuation<Int32, Never>) {
        self.session = session
        self.continuation = continuation
    }
}
