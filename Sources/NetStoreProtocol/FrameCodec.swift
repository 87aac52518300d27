import NIOCore
import NetStoreCore

/// Writes frames as docs/protocol.md lays them out.
///
/// `encode` is for frames the caller knows to be within the limits (a
/// precondition); `tryEncode` checks them and throws a `NetStoreError` the
/// caller can hand on (a name too long, a list too big, a frame too large),
/// leaving `buffer` as it was.
public enum FrameCodec {
    public static func encode(_ frame: RequestFrame, into buffer: inout ByteBuffer) {
        do {
            try tryEncode(frame, into: &buffer)
        } catch {
            preconditionFailure("cannot encode \(frame.request.opcode) request: \(error)")
        }
    }

    public static func encode(_ frame: ResponseFrame, into buffer: inout ByteBuffer) {
        do {
            try tryEncode(frame, into: &buffer)
        } catch {
            preconditionFailure("cannot encode \(frame.opcode) response: \(error)")
        }
    }

    public static func tryEncode(_ frame: RequestFrame, into buffer: inout ByteBuffer) throws(NetStoreError) {
        let header = FrameHeader(kind: .request, opcode: frame.request.opcode, status: 0, requestID: frame.requestID)
        try writeFrame(header, into: &buffer) { (payload: inout ByteBuffer) throws(NetStoreError) in
            try RequestCodec.writePayload(of: frame.request, into: &payload)
        }
    }

    /// A response must be the kind of reply its opcode gets (a precondition:
    /// sending another would be a bug, not a condition of the input).
    public static func tryEncode(_ frame: ResponseFrame, into buffer: inout ByteBuffer) throws(NetStoreError) {
        precondition(
            frame.opcode != .changes || frame.requestID == ChangeNotice.frameRequestID,
            "a CHANGES frame carries request id \(ChangeNotice.frameRequestID), not \(frame.requestID)")
        switch frame.result {
        case .success(let response):
            precondition(
                ResponseCodec.response(response, answers: frame.opcode),
                "a \(frame.opcode) request is not answered by \(response)")
            let header = FrameHeader(kind: .response, opcode: frame.opcode, status: 0, requestID: frame.requestID)
            try writeFrame(header, into: &buffer) { (payload: inout ByteBuffer) throws(NetStoreError) in
                try ResponseCodec.writePayload(of: response, into: &payload)
            }
        case .failure(let error):
            precondition(frame.opcode != .changes, "a CHANGES frame is never an error")
            let header = FrameHeader(
                kind: .response, opcode: frame.opcode, status: error.code.rawValue, requestID: frame.requestID)
            try writeFrame(header, into: &buffer) { (payload: inout ByteBuffer) throws(NetStoreError) in
                // A message is for people: a long one is cut rather than lose the reply.
                try payload.writeString16(truncated(error.message, to: Limits.maxMessageLength), .message)
            }
        }
    }

    /// Writes the header and payload, then the length; rewinds on failure.
    private static func writeFrame(
        _ header: FrameHeader, into buffer: inout ByteBuffer,
        payload writePayload: (inout ByteBuffer) throws(NetStoreError) -> Void
    ) throws(NetStoreError) {
        let start = buffer.writerIndex
        header.write(into: &buffer)
        do {
            try writePayload(&buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        let length = buffer.writerIndex - start - FrameHeader.lengthFieldSize
        do {
            try checkLength(length, of: header.opcode)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        buffer.setInteger(UInt32(length), at: start)
    }

    /// Refuses a frame whose `length` field would be over the frame size limit.
    static func checkLength(_ length: Int, of opcode: Opcode) throws(NetStoreError) {
        guard length <= FrameHeader.maxLength(maxFrameSize: Limits.maxFrameSize) else {
            throw NetStoreError(
                .fileTooBig, "a \(opcode) frame of \(length + 4) bytes is over the limit of \(Limits.maxFrameSize)")
        }
    }

    /// The longest prefix of `string` of at most `maxBytes` UTF-8 bytes that
    /// ends on a character boundary.
    static func truncated(_ string: String, to maxBytes: Int) -> String {
        guard string.utf8.count > maxBytes else { return string }
        var result = ""
        var bytes = 0
        for character in string {
            let size = character.utf8.count
            if bytes + size > maxBytes { break }
            result.append(character)
            bytes += size
        }
        return result
    }
}
