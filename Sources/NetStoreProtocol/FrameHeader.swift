import NIOCore
import NetStoreCore

/// The fixed 20 bytes in front of every payload (docs/protocol.md, "Frame").
struct FrameHeader: Hashable {
    enum Kind: UInt8 {
        case request = 1
        case response = 2
    }

    static let magic: UInt16 = 0x4E53
    static let version: UInt8 = 1
    /// Bytes from the start of the frame to the payload.
    static let size = 20
    /// Bytes of the `length` field, which counts what follows it.
    static let lengthFieldSize = 4
    /// The smallest `length`: the header after the length field, no payload.
    static let minLength = size - lengthFieldSize

    var kind: Kind
    var opcode: Opcode
    var status: UInt16
    var requestID: UInt64

    /// Writes the header with a zero length; `finish(frameAt:in:)` fills it in.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(Self.magic)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(opcode.rawValue)
        buffer.writeInteger(status)
        buffer.writeInteger(requestID)
    }

    /// The largest `length` a frame of at most `maxFrameSize` bytes may carry.
    static func maxLength(maxFrameSize: Int) -> Int {
        maxFrameSize - lengthFieldSize
    }

    /// Checks the `length` field at the reader index, if its bytes are there,
    /// so an absurd length is refused before anything is buffered for it.
    /// Returns the whole frame's size, or nil while the 4 bytes are missing.
    static func frameSize(in buffer: ByteBuffer, maxFrameSize: Int) throws(ProtocolError) -> Int? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        // Compared as UInt64 so that no value of either side can overflow.
        guard UInt64(length) >= UInt64(minLength),
              UInt64(length) <= UInt64(maxLength(maxFrameSize: maxFrameSize))
        else {
            throw ProtocolError(
                "frame length \(length) is outside \(minLength)...\(maxLength(maxFrameSize: maxFrameSize))")
        }
        return lengthFieldSize + Int(length)
    }

    /// Parses the header fields after the length, if they are all there.
    /// `expected` is the kind this side receives: the other is malformed.
    static func parse(in buffer: ByteBuffer, expecting expected: Kind) throws(ProtocolError) -> FrameHeader? {
        let start = buffer.readerIndex + lengthFieldSize
        guard buffer.readableBytes >= size,
              let magic = buffer.getInteger(at: start, as: UInt16.self),
              let version = buffer.getInteger(at: start + 2, as: UInt8.self),
              let rawKind = buffer.getInteger(at: start + 3, as: UInt8.self),
              let rawOpcode = buffer.getInteger(at: start + 4, as: UInt16.self),
              let status = buffer.getInteger(at: start + 6, as: UInt16.self),
              let requestID = buffer.getInteger(at: start + 8, as: UInt64.self)
        else { return nil }

        guard magic == Self.magic else { throw ProtocolError("bad magic 0x\(String(magic, radix: 16))") }
        guard version == Self.version else { throw ProtocolError("unsupported version \(version)") }
        guard let kind = Kind(rawValue: rawKind) else { throw ProtocolError("unknown frame kind \(rawKind)") }
        guard kind == expected else { throw ProtocolError("expected a \(expected) frame, got a \(kind) frame") }
        guard let opcode = Opcode(rawValue: rawOpcode) else {
            throw ProtocolError("unknown opcode 0x\(String(rawOpcode, radix: 16))")
        }
        if kind == .request && status != 0 { throw ProtocolError("request with status \(status)") }
        if status != 0 && ErrorCode(rawValue: status) == nil { throw ProtocolError("unknown error code \(status)") }
        return FrameHeader(kind: kind, opcode: opcode, status: status, requestID: requestID)
    }
}
