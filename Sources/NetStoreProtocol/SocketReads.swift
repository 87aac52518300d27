import NIOCore

/// How much one socket read of a client may take. NIO's default stops at
/// 64 KiB, so a reply carrying a 1 MiB block arrived in sixteen reads or
/// more, each appended to the decoder's buffer; reads grow (and shrink
/// again) up to 2 MiB here when the peer keeps them full. Servers keep
/// NIO's default: with 2 MiB reads a large upload was slower (a 1 GiB `dd`
/// 96-99 MiB/s against 100-107).
public enum SocketReads {
    public static let maximum = 2 << 20

    public static var allocator: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: maximum)
    }
}
