import NIOCore
import NetStoreCore

extension ByteBuffer {
    /// A `notice`: kind `u8`, then node `u64` (node), or parent `u64` and name
    /// `string16` (entry), or nothing (reset, ended).
    mutating func writeNotice(_ notice: ChangeNotice) throws(NetStoreError) {
        switch notice {
        case .node(let node):
            writeInteger(ChangeNoticeKind.node.rawValue)
            writeInteger(node)
        case .entry(let parent, let name):
            // The name's limit is checked first, so a refusal writes nothing.
            guard name.utf8.count <= Limits.maxNameLength else {
                throw NetStoreError(.nameTooLong, "a name is at most \(Limits.maxNameLength) bytes, not \(name.utf8.count)")
            }
            writeInteger(ChangeNoticeKind.entry.rawValue)
            writeInteger(parent)
            try writeString16(name, .name)
        case .reset:
            writeInteger(ChangeNoticeKind.reset.rawValue)
        case .ended:
            writeInteger(ChangeNoticeKind.ended.rawValue)
        }
    }
}

extension PayloadReader {
    mutating func notice() throws(ProtocolError) -> ChangeNotice {
        let raw = try u8("a notice kind")
        switch ChangeNoticeKind(rawValue: raw) {
        case .node?: return .node(try u64("a notice's node"))
        case .entry?: return .entry(parent: try u64("a notice's parent"), name: try string16(.name))
        case .reset?: return .reset
        case .ended?: return .ended
        case nil: throw ProtocolError("unknown notice kind \(raw)")
        }
    }
}
