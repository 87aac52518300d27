#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The owner this process gives the nodes it creates, as a local file system would.
public enum LocalIdentity {
    public static var uid: UInt32 { UInt32(getuid()) }
    public static var gid: UInt32 { UInt32(getgid()) }
}
