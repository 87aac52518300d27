import NIOCore
import NetStoreCore

/// Reads the fields of one frame's payload. It holds only that payload, so no
/// read can reach past the frame; every read is checked and throws on
/// anything short, out of range or over its limit, before allocating.
struct PayloadReader {
    private var buffer: ByteBuffer

    /// Wire size of an `attr`: its twelve fields add up to 73 bytes.
    static let attributesSize = 73
    /// Smallest wire size of a `user` (empty name).
    static let minUserSize = 8 + 2 + 1 + 8 + 8

    init(_ payload: ByteBuffer) {
        self.buffer = payload
    }

    var remaining: Int { buffer.readableBytes }

    /// A payload is consumed exactly: leftover bytes are malformed.
    func finish() throws(ProtocolError) {
        if buffer.readableBytes != 0 {
            throw ProtocolError("\(buffer.readableBytes) bytes left over after the payload")
        }
    }

    mutating func integer<T: FixedWidthInteger>(as: T.Type = T.self, _ what: @autoclosure () -> String) throws(ProtocolError) -> T {
        guard let value = buffer.readInteger(as: T.self) else {
            throw ProtocolError("payload ends inside \(what())")
        }
        return value
    }

    mutating func u8(_ what: @autoclosure () -> String = "a u8") throws(ProtocolError) -> UInt8 {
        try integer(what())
    }

    mutating func u16(_ what: @autoclosure () -> String = "a u16") throws(ProtocolError) -> UInt16 {
        try integer(what())
    }

    mutating func u32(_ what: @autoclosure () -> String = "a u32") throws(ProtocolError) -> UInt32 {
        try integer(what())
    }

    mutating func u64(_ what: @autoclosure () -> String = "a u64") throws(ProtocolError) -> UInt64 {
        try integer(what())
    }

    mutating func i64(_ what: @autoclosure () -> String = "an i64") throws(ProtocolError) -> Int64 {
        try integer(what())
    }

    mutating func bool(_ what: @autoclosure () -> String = "a bool") throws(ProtocolError) -> Bool {
        switch try u8(what()) {
        case 0: return false
        case 1: return true
        case let other: throw ProtocolError("\(what()) is \(other), not 0 or 1")
        }
    }

    mutating func string16(_ field: FieldLimit) throws(ProtocolError) -> String {
        let count = Int(try integer(as: UInt16.self, "the length of \(field.label)"))
        guard count <= field.limit else {
            throw ProtocolError("\(field.label) of \(count) bytes is over its limit of \(field.limit)")
        }
        guard count <= buffer.readableBytes, let bytes = buffer.readSlice(length: count) else {
            throw ProtocolError("payload ends inside \(field.label)")
        }
        let view = bytes.readableBytesView
        // Decoding repairs invalid UTF-8 with U+FFFD, so the result spells the
        // input back exactly when, and only when, the input was valid.
        let string = String(decoding: view, as: UTF8.self)
        guard string.utf8.elementsEqual(view) else {
            throw ProtocolError("\(field.label) is not valid UTF-8")
        }
        return string
    }

    /// A `bytes32` field, as a slice of the input (no copy).
    mutating func bytes32(_ field: FieldLimit) throws(ProtocolError) -> ByteBuffer {
        let count = try u32("the length of \(field.label)")
        guard count <= field.limit else {
            throw ProtocolError("\(field.label) of \(count) bytes is over its limit of \(field.limit)")
        }
        guard let slice = buffer.readSlice(length: Int(count)) else {
            throw ProtocolError("payload ends inside \(field.label)")
        }
        return slice
    }

    /// A list's `u32` count, checked against its limit and against the bytes
    /// left (each element takes at least `minElementSize`), so a hostile
    /// count never makes us reserve memory the frame does not back.
    mutating func count(_ field: FieldLimit, minElementSize: Int) throws(ProtocolError) -> Int {
        let raw = try u32("the count of \(field.label)")
        guard raw <= field.limit else {
            throw ProtocolError("\(field.label) of \(raw) entries is over its limit of \(field.limit)")
        }
        let count = Int(raw)
        guard count * minElementSize <= buffer.readableBytes else {
            throw ProtocolError("\(field.label) of \(count) entries does not fit in the payload")
        }
        return count
    }

    mutating func blockID() throws(ProtocolError) -> BlockID {
        guard let bytes = buffer.readBytes(length: BlockID.byteCount), let id = BlockID(bytes: bytes) else {
            throw ProtocolError("payload ends inside a block id")
        }
        return id
    }

    mutating func blockIDs(_ field: FieldLimit) throws(ProtocolError) -> [BlockID] {
        let count = try count(field, minElementSize: BlockID.byteCount)
        var ids = [BlockID]()
        ids.reserveCapacity(count)
        for _ in 0..<count { ids.append(try blockID()) }
        return ids
    }

    mutating func nodeKind() throws(ProtocolError) -> NodeKind {
        let raw = try u8("a node kind")
        guard let kind = NodeKind(rawValue: raw) else { throw ProtocolError("unknown node kind \(raw)") }
        return kind
    }

    mutating func role() throws(ProtocolError) -> Role {
        let raw = try u8("a role")
        guard let role = Role(rawValue: raw) else { throw ProtocolError("unknown role \(raw)") }
        return role
    }

    mutating func attributes() throws(ProtocolError) -> NodeAttributes {
        let id = try u64("attributes")
        let kind = try nodeKind()
        return NodeAttributes(
            id: id, kind: kind, mode: try u32("attributes"), uid: try u32("attributes"),
            gid: try u32("attributes"), nlink: try u32("attributes"), size: try u64("attributes"),
            atimeNs: try i64("attributes"), mtimeNs: try i64("attributes"), ctimeNs: try i64("attributes"),
            version: try u64("attributes"), rdev: try u64("attributes"))
    }

    mutating func content() throws(ProtocolError) -> FileContent {
        FileContent(version: try u64("version"), size: try u64("size"), blocks: try blockIDs(.blockList))
    }

    mutating func user() throws(ProtocolError) -> UserInfo {
        let id = try u64("a user")
        let name = try string16(.userName)
        let role = try role()
        return UserInfo(id: id, name: name, role: role, rootNode: try u64("a user"), createdNs: try i64("a user"))
    }

    mutating func timeChange(_ what: String) throws(ProtocolError) -> SetAttributes.TimeChange? {
        let rawTag = try u8("the tag of \(what)")
        let nanoseconds = try i64(what)
        switch TimeChangeTag(rawValue: rawTag) {
        case .unchanged?, .now?:
            // The encoding is canonical: an unused value is zero.
            guard nanoseconds == 0 else { throw ProtocolError("\(what) carries a value with tag \(rawTag)") }
            return rawTag == TimeChangeTag.now.rawValue ? .now : nil
        case .set?:
            return .nanoseconds(nanoseconds)
        case nil:
            throw ProtocolError("unknown tag \(rawTag) in \(what)")
        }
    }

    mutating func setAttributes() throws(ProtocolError) -> SetAttributes {
        let rawMask = try u8("the setattr mask")
        let mask = SetAttributesMask(rawValue: rawMask)
        guard SetAttributesMask.all.isSuperset(of: mask) else {
            throw ProtocolError("unknown bits in setattr mask \(rawMask)")
        }
        let mode = try u32("setattr mode"), uid = try u32("setattr uid"), gid = try u32("setattr gid")
        let size = try u64("setattr size")
        // The encoding is canonical: an unset value is zero.
        func value<T: FixedWidthInteger>(_ value: T, _ bit: SetAttributesMask, _ name: String) throws(ProtocolError) -> T? {
            if mask.contains(bit) { return value }
            guard value == 0 else { throw ProtocolError("setattr \(name) is not set but carries a value") }
            return nil
        }
        return SetAttributes(
            mode: try value(mode, .mode, "mode"), uid: try value(uid, .uid, "uid"),
            gid: try value(gid, .gid, "gid"), size: try value(size, .size, "size"),
            atime: try timeChange("atime"), mtime: try timeChange("mtime"))
    }
}
