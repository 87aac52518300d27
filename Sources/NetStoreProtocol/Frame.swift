import NIOCore
import NetStoreCore

/// A request with the id its reply will carry.
public struct RequestFrame: Sendable, Hashable {
    public var requestID: UInt64
    public var request: Request

    public init(requestID: UInt64, request: Request) {
        self.requestID = requestID
        self.request = request
    }
}

/// A reply: the request's id and opcode, and either a response or an error.
public struct ResponseFrame: Sendable, Hashable {
    public var requestID: UInt64
    public var opcode: Opcode
    public var result: Result<Response, NetStoreError>

    public init(requestID: UInt64, opcode: Opcode, result: Result<Response, NetStoreError>) {
        self.requestID = requestID
        self.opcode = opcode
        self.result = result
    }
}

/// A malformed frame. The connection that sent it is closed.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "protocol error: \(reason)" }
}
