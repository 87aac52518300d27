#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import NetStoreCore
import Synchronization

/// A new small file closed in write-back mode, as the journal keeps it until
/// the server has made it.
struct StagedFile: Sendable, Hashable {
    /// Staging order: changes reach the server in this order.
    var sequence: UInt64
    var parent: NodeID
    var name: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var modifiedNs: Int64
    var bytes: [UInt8]
    /// The content's block id (`OpenFile.blockID(of: bytes)`): computed once,
    /// where the bytes are first known, and kept with them.
    var contentID: BlockID

    init(sequence: UInt64, parent: NodeID, name: String, mode: UInt32, uid: UInt32, gid: UInt32, modifiedNs: Int64,
         bytes: [UInt8], contentID: BlockID? = nil) {
        self.sequence = sequence
        self.parent = parent
        self.name = name
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modifiedNs = modifiedNs
        self.bytes = bytes
        self.contentID = contentID ?? OpenFile.blockID(of: bytes)
    }
}

/// A name removed in write-back mode (unlink, or rmdir of an empty
/// directory), as the journal keeps it until the server has removed it.
struct StagedRemoval: Sendable, Hashable {
    var sequence: UInt64
    var parent: NodeID
    var name: String
    /// The directory's node for an rmdir; nil for an unlink.
    var directory: NodeID? = nil
}

/// One change staged in write-back mode.
enum StagedChange: Sendable, Hashable {
    case file(StagedFile)
    case removal(StagedRemoval)

    var sequence: UInt64 {
        get {
            switch self {
            case .file(let file): file.sequence
            case .removal(let removal): removal.sequence
            }
        }
        set {
            switch self {
            case .file(var file): file.sequence = newValue; self = .file(file)
            case .removal(var removal): removal.sequence = newValue; self = .removal(removal)
            }
        }
    }

    var parent: NodeID {
        switch self {
        case .file(let file): file.parent
        case .removal(let removal): removal.parent
        }
    }

    var name: String {
        switch self {
        case .file(let file): file.name
        case .removal(let removal): removal.name
        }
    }

    var file: StagedFile? {
        if case .file(let file) = self { return file }
        return nil
    }

    var removal: StagedRemoval? {
        if case .removal(let removal) = self { return removal }
        return nil
    }

    /// Content bytes it carries.
    var byteCount: Int {
        if case .file(let file) = self { return file.bytes.count }
        return 0
    }
}

/// The record format: a u8 kind (3 a new file, 1 an unlink, 2 an rmdir) and a
/// u24 payload length, the first 8 bytes of a SHA-256, the payload (integers
/// big-endian, names and content length-prefixed). A new file's payload:
/// sequence, parent, name, mode, uid, gid, time, its content's block id (32
/// bytes), content; the hash covers all but the content, which its block id
/// covers (so the content is not hashed twice). An unlink's payload: sequence,
/// parent, name; an rmdir's: the same and the directory's node; the hash
/// covers the whole payload. Kind 0 is a new file as earlier versions wrote it
/// (no block id, the hash over the whole payload): still read. A record cut
/// short or not matching its hash ends what is read of a segment: it is a write
/// the machine lost, never a half-made change.
enum StagedRecord {
    static let headerSize = 12
    private static let earlierFileKind: UInt32 = 0
    private static let removalKind: UInt32 = 1
    private static let directoryRemovalKind: UInt32 = 2
    private static let fileKind: UInt32 = 3

    static func encode(_ change: StagedChange) -> [UInt8] {
        // Written in place after a header filled in at the end: the content is copied once.
        var record = [UInt8](repeating: 0, count: headerSize)
        func integer<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { record.append(contentsOf: $0) } }
        func name(_ name: String) { integer(UInt16(name.utf8.count)); record.append(contentsOf: name.utf8) }
        let kind: UInt32
        let hashed: Int  // how much of the record after the header the hash covers
        switch change {
        case .file(let file):
            kind = fileKind
            record.reserveCapacity(headerSize + 80 + file.name.utf8.count + file.bytes.count)
            integer(file.sequence); integer(file.parent); name(file.name)
            integer(file.mode); integer(file.uid); integer(file.gid); integer(file.modifiedNs)
            record.append(contentsOf: file.contentID.bytes)
            integer(UInt32(file.bytes.count))
            hashed = record.count - headerSize
            record.append(contentsOf: file.bytes)
        case .removal(let removal):
            kind = removal.directory == nil ? removalKind : directoryRemovalKind
            integer(removal.sequence); integer(removal.parent); name(removal.name)
            if let directory = removal.directory { integer(directory) }
            hashed = record.count - headerSize
        }
        let header = (kind << 24 | UInt32(record.count - headerSize)).bigEndian
        let hash = SHA256.hash(data: record[headerSize..<(headerSize + hashed)])
        record.withUnsafeMutableBytes { raw in
            withUnsafeBytes(of: header) { raw.copyMemory(from: $0) }
            hash.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[4..<headerSize]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<8])) }
        }
        return record
    }

    /// The whole records at the start of `bytes`, and how many bytes they take.
    static func decodeAll(_ bytes: [UInt8]) -> (changes: [StagedChange], length: Int) {
        var changes: [StagedChange] = []
        var at = 0
        while bytes.count - at >= headerSize {
            let header = bytes[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(header & 0xFF_FFFF)
            let start = at + headerSize
            guard length <= bytes.count - start else { break }
            let payload = bytes[start..<(start + length)]
            let kind = header >> 24
            guard let change = decodePayload(payload, kind: kind),
                  Array(SHA256.hash(data: payload.prefix(hashedLength(of: change, in: payload, kind: kind))).prefix(8))
                    == Array(bytes[(at + 4)..<start]),
                  kind != fileKind || Self.contentMatches(change)  // an earlier record's hash covers its content
            else { break }
            changes.append(change)
            at = start + length
        }
        return (changes, at)
    }

    /// How much of a record's payload its hash covers: a new file's, all but its content.
    private static func hashedLength(of change: StagedChange, in payload: ArraySlice<UInt8>, kind: UInt32) -> Int {
        guard kind == fileKind, let file = change.file else { return payload.count }
        return payload.count - file.bytes.count
    }

    /// Whether a new file's content is the content its block id names.
    private static func contentMatches(_ change: StagedChange) -> Bool {
        guard let file = change.file else { return true }
        return OpenFile.blockID(of: file.bytes) == file.contentID
    }

    private static func decodePayload(_ payload: ArraySlice<UInt8>, kind: UInt32) -> StagedChange? {
        var at = payload.startIndex
        func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard payload.endIndex - at >= size else { return nil }
            defer { at += size }
            return payload[at..<(at + size)].reduce(T(0)) { $0 << 8 | T($1) }
        }
        func bytes(_ count: Int) -> [UInt8]? {
            guard payload.endIndex - at >= count else { return nil }
            defer { at += count }
            return Array(payload[at..<(at + count)])
        }
        func name() -> String? {
            guard let length = integer(UInt16.self), let bytes = bytes(Int(length)) else { return nil }
            return String(validating: bytes, as: UTF8.self)
        }
        guard let sequence = integer(UInt64.self), let parent = integer(UInt64.self), let name = name() else { return nil }
        switch kind {
        case fileKind, earlierFileKind:
            guard let mode = integer(UInt32.self), let uid = integer(UInt32.self), let gid = integer(UInt32.self),
                  let modified = integer(Int64.self) else { return nil }
            var contentID: BlockID?
            if kind == fileKind {
                guard let id = bytes(32).flatMap({ BlockID(bytes: $0) }) else { return nil }
                contentID = id
            }
            guard let count = integer(UInt32.self), let content = bytes(Int(count)), at == payload.endIndex else { return nil }
            return .file(StagedFile(sequence: sequence, parent: parent, name: name, mode: mode, uid: uid, gid: gid,
                                    modifiedNs: modified, bytes: content, contentID: contentID))
        case removalKind:
            guard at == payload.endIndex else { return nil }
            return .removal(StagedRemoval(sequence: sequence, parent: parent, name: name))
        case directoryRemovalKind:
            guard let directory = integer(UInt64.self), at == payload.endIndex else { return nil }
            return .removal(StagedRemoval(sequence: sequence, parent: parent, name: name, directory: directory))
        default:
            return nil
        }
    }
}

/// The write-back mode's journal (docs/mount.md, "Write-back mode"): every file
/// staged at close is appended here before the close returns, and a mount that
/// starts finds what a previous one left unmade. Records go into segment files
/// named by their first sequence number; a segment is deleted once every file
/// in it is made (or set aside as failed). One mount at a time: the directory
/// is locked while in use.
final class StagingJournal: Sendable {
    /// A new segment starts past this size.
    static let segmentLimit = 8 << 20

    private struct Segment {
        var first: UInt64
        var last: UInt64
        var descriptor: Int32
        var size: Int
    }

    let directory: String
    private let lockDescriptor: Int32
    private let state = Mutex<(segments: [Segment], sequence: UInt64)>(([], 0))

    /// Opens (making it if needed) and locks `directory`.
    init(directory: String) throws(NetStoreError) {
        self.directory = directory
        try BlockCache.makeDirectory(directory)
        let descriptor = open("\(directory)/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.error("open \(directory)/lock") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw NetStoreError(.tryAgain, "another mount is using the write-back journal in \(directory): unmount it first, or mount with another -o cache=DIR")
        }
        lockDescriptor = descriptor
    }

    deinit {
        state.withLock { state in for segment in state.segments { close(segment.descriptor) } }
        close(lockDescriptor)
    }

    /// The changes a previous mount staged and did not see reach the server,
    /// in staging order; new sequence numbers continue after them.
    func recover() throws(NetStoreError) -> [StagedChange] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap { name -> UInt64? in name.hasPrefix("segment-") ? UInt64(name.dropFirst("segment-".count)) : nil }
            .sorted()
        var changes: [StagedChange] = []
        var segments: [Segment] = []
        for first in names {
            let path = segmentPath(first)
            guard let data = FileManager.default.contents(atPath: path) else { throw Self.error("read \(path)") }
            let bytes = [UInt8](data)
            let (found, length) = StagedRecord.decodeAll(bytes)
            if length < bytes.count {
                // Only a machine's crash can leave this: those bytes were never a whole record.
                FileHandle.standardError.write(Data("netstore-mount: \(bytes.count - length) bytes at the end of \(path) are not a whole record; ignored\n".utf8))
            }
            changes += found
            // Kept until its files are made; nothing more is appended to it.
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else { throw Self.error("open \(path)") }
            segments.append(Segment(first: first, last: found.map(\.sequence).max() ?? 0, descriptor: descriptor, size: Self.segmentLimit))
        }
        changes.sort { $0.sequence < $1.sequence }
        state.withLock { state in
            state.segments = segments + state.segments
            state.sequence = max(state.sequence, changes.last?.sequence ?? 0, names.last ?? 0)
        }
        return changes
    }

    /// The next sequence number.
    func nextSequence() -> UInt64 {
        state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
    }

    /// Appends `change` (written to the file system, not fsync'd: it survives
    /// the mount's death; only fsync waits for the cluster).
    func append(_ change: StagedChange) throws(NetStoreError) {
        let record = StagedRecord.encode(change)
        let result = state.withLock { state -> NetStoreError? in
            if state.segments.last.map({ $0.size + record.count > Self.segmentLimit }) ?? true {
                let path = segmentPath(change.sequence)
                let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                guard descriptor >= 0 else { return Self.error("create \(path)") }
                state.segments.append(Segment(first: change.sequence, last: change.sequence, descriptor: descriptor, size: 0))
            }
            let descriptor = state.segments[state.segments.count - 1].descriptor
            let code = record.withUnsafeBytes { Descriptor.writeAll(descriptor, $0) }
            if code != 0 {
                // A partial record is not one: cut it off.
                ftruncate(descriptor, off_t(state.segments[state.segments.count - 1].size))
                return Self.error("write the write-back journal in \(directory)", code: code)
            }
            state.segments[state.segments.count - 1].size += record.count
            state.segments[state.segments.count - 1].last = change.sequence
            return nil
        }
        if let result { throw result }
    }

    /// Every change up to `sequence` reached the server or was set aside: their segments go.
    func completed(through sequence: UInt64) {
        let done = state.withLock { state -> [Segment] in
            let done = state.segments.filter { $0.last <= sequence }
            state.segments.removeAll { $0.last <= sequence }
            return done
        }
        for segment in done {
            close(segment.descriptor)
            unlink(segmentPath(segment.first))
        }
    }

    /// Keeps a file the server refused (it cannot be made where it was meant
    /// to be) in `failed/`, with a line in `failed/README` saying where it was
    /// meant to go and why. Returns its path, or nil if its content could not
    /// be written there (a full disk): the README line then says so.
    func setAside(_ file: StagedFile, reason: String) -> String? {
        let failed = "\(directory)/failed"
        try? BlockCache.makeDirectory(failed)
        let safeName = file.name.replacingOccurrences(of: "/", with: "_")
        let path = "\(failed)/\(file.sequence)-\(safeName)"
        let kept = FileManager.default.createFile(atPath: path, contents: Data(file.bytes), attributes: [.posixPermissions: 0o600])
        let lost = kept ? "" : "\t(its \(file.bytes.count) bytes could not be written to \(path): \(String(cString: strerror(errno))))"
        noteFailure("\(path)\tparent node \(file.parent), name '\(file.name)'\t\(reason)\(lost)")
        return kept ? path : nil
    }

    /// Notes in `failed/README` a removal the server refused (the name is
    /// still there). Returns the note's path.
    func setAside(_ removal: StagedRemoval, reason: String) -> String {
        noteFailure("removal not done\tparent node \(removal.parent), name '\(removal.name)'\t\(reason)")
    }

    @discardableResult
    private func noteFailure(_ line: String) -> String {
        let failed = "\(directory)/failed"
        try? BlockCache.makeDirectory(failed)
        let readme = "\(failed)/README"
        if let handle = FileHandle(forWritingAtPath: readme) ?? {
            _ = FileManager.default.createFile(atPath: readme, contents: nil)
            return FileHandle(forWritingAtPath: readme)
        }() {
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try? handle.close()
        }
        return readme
    }

    private func segmentPath(_ first: UInt64) -> String {
        "\(directory)/segment-\(String(first).leftPadded(to: 20))"
    }

    private static func error(_ what: String, code number: Int32 = errno) -> NetStoreError {
        let code: ErrorCode = number == ENOSPC ? .noSpace : .io
        return NetStoreError(code, "cannot \(what): \(String(cString: strerror(number)))")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// What a write-back journal holds, read without taking it (a mount may be
/// using it): for `netstore status`.
public struct StagingJournalSummary: Sendable, Equatable {
    public var directory: String
    /// Changes journaled and not yet known to be on the servers.
    public var pending: Int
    /// Changes the servers refused, each a line of `failed/README`.
    public var refused: Int
    public var failedNote: String { "\(directory)/failed/README" }

    /// The journal in `directory`.
    public static func read(_ directory: String) -> StagingJournalSummary {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var pending = 0
        for name in names where name.hasPrefix("segment-") {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { continue }
            pending += StagedRecord.decodeAll([UInt8](data)).changes.count
        }
        let note = FileManager.default.contents(atPath: "\(directory)/failed/README") ?? Data()
        let refused = note.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        return StagingJournalSummary(directory: directory, pending: pending, refused: refused)
    }

    /// Every journal under `cacheDirectory` (one per account, cluster and mountpoint).
    public static func all(in cacheDirectory: String) -> [StagingJournalSummary] {
        let staged = "\(cacheDirectory)/staged"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staged)) ?? []
        return names.sorted().map { read("\(staged)/\($0)") }
    }
}
