import NIOCore

/// Runs a task's jobs on one event loop. A connection's tasks preferring its
/// channel's loop read, handle and answer a request on one thread: without a
/// preference each job goes to any loop of the group, and every such move
/// costs a wake-up and a thread switch.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        eventLoop.enqueue(job)
    }
}
