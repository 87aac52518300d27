import NIOCore
import NetStoreCore

/// Field writers for the encodings of docs/protocol.md. Each one that has a
/// limit checks it before writing anything, so a refused field leaves no
/// partial bytes behind it (the frame writer rewinds the rest).
extension ByteBuffer {
    mutating func writeBool(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    mutating func writeString16(_ string: String, _ field: FieldLimit) throws(NetStoreError) {
        let count = string.utf8.count
        guard count <= field.limit, count <= Int(UInt16.max) else {
            throw NetStoreError(field.code, "\(field.label) is at most \(field.limit) bytes, not \(count)")
        }
        writeInteger(UInt16(count))
        writeString(string)
    }

    mutating func writeBytes32(_ bytes: ByteBuffer, _ field: FieldLimit) throws(NetStoreError) {
        try field.checkBytes32(bytes.readableBytes)
        writeInteger(UInt32(bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }

    /// Writes a list's `u32` count after checking it against its limit.
    mutating func writeCount(_ count: Int, _ field: FieldLimit) throws(NetStoreError) {
        guard count <= field.limit, count <= Int(UInt32.max) else {
            throw NetStoreError(field.code, "\(field.label) holds at most \(field.limit) entries, not \(count)")
        }
        writeInteger(UInt32(count))
    }

    mutating func writeBlockID(_ id: BlockID) {
        writeBytes(id.bytes)
    }

    mutating func writeBlockIDs(_ ids: [BlockID], _ field: FieldLimit) throws(NetStoreError) {
        try writeCount(ids.count, field)
        for id in ids { writeBlockID(id) }
    }

    /// A file's version, size and block list.
    mutating func writeContent(_ content: FileContent) throws(NetStoreError) {
        writeInteger(content.version)
        writeInteger(content.size)
        try writeBlockIDs(content.blocks, .blockList)
    }

    mutating func writeAttributes(_ attributes: NodeAttributes) {
        writeInteger(attributes.id)
        writeInteger(attributes.kind.rawValue)
        writeInteger(attributes.mode)
        writeInteger(attributes.uid)
        writeInteger(attributes.gid)
        writeInteger(attributes.nlink)
        writeInteger(attributes.size)
        writeInteger(attributes.atimeNs)
        writeInteger(attributes.mtimeNs)
        writeInteger(attributes.ctimeNs)
        writeInteger(attributes.version)
        writeInteger(attributes.rdev)
    }

    mutating func writeUser(_ user: UserInfo) throws(NetStoreError) {
        writeInteger(user.id)
        try writeString16(user.name, .userName)
        writeInteger(user.role.rawValue)
        writeInteger(user.rootNode)
        writeInteger(user.createdNs)
    }

    mutating func writeTimeChange(_ change: SetAttributes.TimeChange?) {
        switch change {
        case nil:
            writeInteger(TimeChangeTag.unchanged.rawValue)
            writeInteger(Int64(0))
        case .now:
            writeInteger(TimeChangeTag.now.rawValue)
            writeInteger(Int64(0))
        case .nanoseconds(let value):
            writeInteger(TimeChangeTag.set.rawValue)
            writeInteger(value)
        }
    }

    /// SETATTR's changes: a mask of the set fields, each value (zero when
    /// unset), then the two time changes.
    mutating func writeSetAttributes(_ changes: SetAttributes) {
        var mask = SetAttributesMask()
        if changes.mode != nil { mask.insert(.mode) }
        if changes.uid != nil { mask.insert(.uid) }
        if changes.gid != nil { mask.insert(.gid) }
        if changes.size != nil { mask.insert(.size) }
        writeInteger(mask.rawValue)
        writeInteger(changes.mode ?? 0)
        writeInteger(changes.uid ?? 0)
        writeInteger(changes.gid ?? 0)
        writeInteger(changes.size ?? 0)
        writeTimeChange(changes.atime)
        writeTimeChange(changes.mtime)
    }
}

/// The `timechange` tag byte.
enum TimeChangeTag: UInt8 {
    case unchanged = 0
    case now = 1
    case set = 2
}

/// SETATTR's mask byte: which of mode, uid, gid and size are set.
struct SetAttributesMask: OptionSet {
    let rawValue: UInt8
    static let mode = SetAttributesMask(rawValue: 1 << 0)
    static let uid = SetAttributesMask(rawValue: 1 << 1)
    static let gid = SetAttributesMask(rawValue: 1 << 2)
    static let size = SetAttributesMask(rawValue: 1 << 3)
    static let all: SetAttributesMask = [.mode, .uid, .gid, .size]
}
