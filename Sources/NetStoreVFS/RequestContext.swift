/// Who makes a request: the calling process's ids as the kernel reports them.
/// New nodes belong to this uid and gid, as on a local file system.
public struct RequestContext: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32

    public init(uid: UInt32, gid: UInt32, pid: Int32 = 0) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }
}
