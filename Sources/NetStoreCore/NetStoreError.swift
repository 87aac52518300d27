/// An expected error: a code that travels on the wire plus a message for people.
///
/// Programmer errors are preconditions, never this type.
public struct NetStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    /// Names the thing that failed and, where it helps, what to do about it.
    public var message: String

    public init(_ code: ErrorCode, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String {
        message.isEmpty ? code.name : "\(message) (\(code.name))"
    }
}
