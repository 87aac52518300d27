import NIOCore
import NetStoreCore

/// Cuts frames out of a byte stream. Keeps no state between frames beyond
/// its limits, so a caller may feed it any split of the stream.
///
/// Each call returns nil and consumes nothing while the next frame is
/// incomplete, or consumes exactly one whole frame. A malformed frame throws
/// `ProtocolError` as soon as the bytes that show it are there: the length
/// once its 4 bytes have arrived, the rest of the header once its 20 bytes
/// have, the payload once the whole frame has.
public struct FrameDecoder: Sendable {
    public let maxFrameSize: Int

    public init(maxFrameSize: Int = Limits.maxFrameSize) {
        precondition(
            maxFrameSize >= FrameHeader.size && maxFrameSize - FrameHeader.lengthFieldSize <= Int(UInt32.max),
            "a frame size limit must fit a header and a u32 length, not \(maxFrameSize)")
        self.maxFrameSize = maxFrameSize
    }

    /// The next whole request in `buffer`, or nil until more bytes arrive.
    public func nextRequest(from buffer: inout ByteBuffer) throws(ProtocolError) -> RequestFrame? {
        guard let (header, reader, size) = try nextFrame(in: buffer, expecting: .request) else { return nil }
        var payload = reader
        let request = try RequestCodec.readPayload(of: header.opcode, from: &payload)
        try payload.finish()
        buffer.moveReaderIndex(forwardBy: size)
        return RequestFrame(requestID: header.requestID, request: request)
    }

    /// The next whole response in `buffer`, or nil until more bytes arrive.
    public func nextResponse(from buffer: inout ByteBuffer) throws(ProtocolError) -> ResponseFrame? {
        guard let (header, reader, size) = try nextFrame(in: buffer, expecting: .response) else { return nil }
        var payload = reader
        if header.opcode == .changes {
            // Unasked, so it must not be mistaken for a reply: one id, never an error.
            guard header.requestID == ChangeNotice.frameRequestID, header.status == 0 else {
                throw ProtocolError("a CHANGES frame has request id \(ChangeNotice.frameRequestID) and status 0, not \(header.requestID) and \(header.status)")
            }
        }
        let result: Result<Response, NetStoreError>
        if header.status == 0 {
            result = .success(try ResponseCodec.readPayload(answering: header.opcode, from: &payload))
        } else {
            guard let code = ErrorCode(rawValue: header.status) else {
                throw ProtocolError("unknown error code \(header.status)")
            }
            result = .failure(NetStoreError(code, try payload.string16(.message)))
        }
        try payload.finish()
        buffer.moveReaderIndex(forwardBy: size)
        return ResponseFrame(requestID: header.requestID, opcode: header.opcode, result: result)
    }

    /// The header and a reader over the payload of the next frame, with the
    /// frame's size, once all of it is in `buffer`; consumes nothing.
    private func nextFrame(
        in buffer: ByteBuffer, expecting kind: FrameHeader.Kind
    ) throws(ProtocolError) -> (FrameHeader, PayloadReader, Int)? {
        guard let size = try FrameHeader.frameSize(in: buffer, maxFrameSize: maxFrameSize),
              let header = try FrameHeader.parse(in: buffer, expecting: kind),
              buffer.readableBytes >= size,
              let payload = buffer.getSlice(
                  at: buffer.readerIndex + FrameHeader.size, length: size - FrameHeader.size)
        else { return nil }
        return (header, PayloadReader(payload), size)
    }
}
