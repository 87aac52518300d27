import NIOCore
import NetStoreCore

// STUB: replaced by the real codec (see docs/protocol.md).
public enum FrameCodec {
    public static func encode(_ frame: RequestFrame, into buffer: inout ByteBuffer) {
        fatalError("not implemented")
    }

    public static func encode(_ frame: ResponseFrame, into buffer: inout ByteBuffer) {
        fatalError("not implemented")
    }
}

/// Cuts frames out of a byte stream. Keeps no state between frames beyond
/// its limits, so a caller may feed it any split of the stream.
public struct FrameDecoder: Sendable {
    public let maxFrameSize: Int

    public init(maxFrameSize: Int = Limits.maxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// The next whole request in `buffer`, or nil until more bytes arrive.
    public func nextRequest(from buffer: inout ByteBuffer) throws(ProtocolError) -> RequestFrame? {
        fatalError("not implemented")
    }

    /// The next whole response in `buffer`, or nil until more bytes arrive.
    public func nextResponse(from buffer: inout ByteBuffer) throws(ProtocolError) -> ResponseFrame? {
        fatalError("not implemented")
    }
}
