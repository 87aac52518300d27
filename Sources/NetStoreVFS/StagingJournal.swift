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
    /// Staging order: files are made on the server in this order.
    var sequence: UInt64
    var parent: NodeID
    var name: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var modifiedNs: Int64
    var bytes: [UInt8]
}

/// The record format: a u32 payload length, the first 8 bytes of the payload's
/// SHA-256, the payload (sequence, parent, name, mode, uid, gid, time, content;
/// integers big-endian, the name and content length-prefixed). A record cut
/// short or not matching its hash ends what is read of a segment: it is a
/// write the machine lost, never a half-made file.
enum StagedRecord {
    static let headerSize = 12

    static func encode(_ file: StagedFile) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(48 + file.name.utf8.count + file.bytes.count)
        func integer<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { payload.append(contentsOf: $0) } }
        integer(file.sequence); integer(file.parent)
        integer(UInt16(file.name.utf8.count)); payload.append(contentsOf: file.name.utf8)
        integer(file.mode); integer(file.uid); integer(file.gid); integer(file.modifiedNs)
        integer(UInt32(file.bytes.count)); payload.append(contentsOf: file.bytes)
        var record: [UInt8] = []
        record.reserveCapacity(headerSize + payload.count)
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: SHA256.hash(data: payload).prefix(8))
        record.append(contentsOf: payload)
        return record
    }

    /// The whole records at the start of `bytes`, and how many bytes they take.
    static func decodeAll(_ bytes: [UInt8]) -> (files: [StagedFile], length: Int) {
        var files: [StagedFile] = []
        var at = 0
        while bytes.count - at >= headerSize {
            let length = Int(bytes[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let start = at + headerSize
            guard length <= bytes.count - start else { break }
            let payload = bytes[start..<(start + length)]
            guard Array(SHA256.hash(data: payload).prefix(8)) == Array(bytes[(at + 4)..<start]),
                  let file = decodePayload(payload) else { break }
            files.append(file)
            at = start + length
        }
        return (files, at)
    }

    private static func decodePayload(_ payload: ArraySlice<UInt8>) -> StagedFile? {
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
        guard let sequence = integer(UInt64.self), let parent = integer(UInt64.self),
              let nameLength = integer(UInt16.self), let nameBytes = bytes(Int(nameLength)),
              let name = String(validating: nameBytes, as: UTF8.self),
              let mode = integer(UInt32.self), let uid = integer(UInt32.self), let gid = integer(UInt32.self),
              let modified = integer(Int64.self), let count = integer(UInt32.self), let content = bytes(Int(count)),
              at == payload.endIndex
        else { return nil }
        return StagedFile(sequence: sequence, parent: parent, name: name, mode: mode, uid: uid, gid: gid,
                          modifiedNs: modified, bytes: content)
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

    /// The files a previous mount staged and did not see made, in staging
    /// order; new sequence numbers continue after them.
    func recover() throws(NetStoreError) -> [StagedFile] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap { name -> UInt64? in name.hasPrefix("segment-") ? UInt64(name.dropFirst("segment-".count)) : nil }
            .sorted()
        var files: [StagedFile] = []
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
            files += found
            // Kept until its files are made; nothing more is appended to it.
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else { throw Self.error("open \(path)") }
            segments.append(Segment(first: first, last: found.map(\.sequence).max() ?? 0, descriptor: descriptor, size: Self.segmentLimit))
        }
        files.sort { $0.sequence < $1.sequence }
        state.withLock { state in
            state.segments = segments + state.segments
            state.sequence = max(state.sequence, files.last?.sequence ?? 0, names.last ?? 0)
        }
        return files
    }

    /// The next sequence number.
    func nextSequence() -> UInt64 {
        state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
    }

    /// Appends `file` (written to the file system, not fsync'd: it survives
    /// the mount's death; only fsync waits for the cluster).
    func append(_ file: StagedFile) throws(NetStoreError) {
        let record = StagedRecord.encode(file)
        let result = state.withLock { state -> NetStoreError? in
            if state.segments.last.map({ $0.size + record.count > Self.segmentLimit }) ?? true {
                let path = segmentPath(file.sequence)
                let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                guard descriptor >= 0 else { return Self.error("create \(path)") }
                state.segments.append(Segment(first: file.sequence, last: file.sequence, descriptor: descriptor, size: 0))
            }
            let descriptor = state.segments[state.segments.count - 1].descriptor
            var done = 0
            while done < record.count {
                let n = record.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, record.count - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let error = Self.error("write the write-back journal in \(directory)")
                    // A partial record is not one: cut it off.
                    ftruncate(descriptor, off_t(state.segments[state.segments.count - 1].size))
                    return error
                }
                done += n
            }
            state.segments[state.segments.count - 1].size += record.count
            state.segments[state.segments.count - 1].last = file.sequence
            return nil
        }
        if let result { throw result }
    }

    /// Every file up to `sequence` is made or set aside: their segments go.
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
    /// meant to go and why. Returns its path.
    func setAside(_ file: StagedFile, reason: String) -> String {
        let failed = "\(directory)/failed"
        try? BlockCache.makeDirectory(failed)
        let safeName = file.name.replacingOccurrences(of: "/", with: "_")
        let path = "\(failed)/\(file.sequence)-\(safeName)"
        FileManager.default.createFile(atPath: path, contents: Data(file.bytes), attributes: [.posixPermissions: 0o600])
        let line = "\(path)\tparent node \(file.parent), name '\(file.name)'\t\(reason)\n"
        if let handle = FileHandle(forWritingAtPath: "\(failed)/README") ?? {
            FileManager.default.createFile(atPath: "\(failed)/README", contents: nil)
            return FileHandle(forWritingAtPath: "\(failed)/README")
        }() {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        }
        return path
    }

    private func segmentPath(_ first: UInt64) -> String {
        "\(directory)/segment-\(String(first).leftPadded(to: 20))"
    }

    private static func error(_ what: String) -> NetStoreError {
        let code: ErrorCode = errno == ENOSPC ? .noSpace : .io
        return NetStoreError(code, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
