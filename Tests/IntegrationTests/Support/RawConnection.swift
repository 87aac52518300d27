import NetStoreTestSupport
import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol

/// A blocking TCP connection that speaks frames byte by byte, so tests can send
/// anything, malformed frames included, and see exactly what comes back.
final class RawConnection {
    private let fd: Int32
    private var inbound = ByteBuffer()
    private var nextID: UInt64 = 1

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = try connectLoopback(port: port, timeoutSeconds: timeoutSeconds)
    }

    deinit { close(fd) }

    func send(bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestFailure("send failed: errno \(errno)") }
            offset += n
        }
    }

    func send(_ request: Request) throws -> UInt64 {
        let id = nextID
        nextID += 1
        var buffer = ByteBuffer()
        FrameCodec.encode(RequestFrame(requestID: id, request: request), into: &buffer)
        try send(bytes: Array(buffer.readableBytesView))
        return id
    }

    /// The next reply, or nil when the server closed the connection.
    func receive() throws -> ResponseFrame? {
        let decoder = FrameDecoder()
        while true {
            if let frame = try decoder.nextResponse(from: &inbound) { return frame }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == ECONNRESET { return nil }
                throw TestFailure("recv failed: errno \(errno) (timeout?)")
            }
            inbound.writeBytes(chunk[0..<n])
        }
    }

    /// Sends a request and waits for its reply.
    func call(_ request: Request) throws -> Result<Response, NetStoreError> {
        let id = try send(request)
        guard let frame = try receive() else { throw TestFailure("connection closed before the reply to \(request.opcode)") }
        guard frame.requestID == id else { throw TestFailure("reply for id \(frame.requestID), expected \(id)") }
        return frame.result
    }

    /// Tells the server nothing more will come (a half-close).
    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// True once the server has closed its side (reads return end of file).
    func isClosedByPeer() throws -> Bool {
        while true {
            guard let _ = try receive() else { return true }
        }
    }
}
