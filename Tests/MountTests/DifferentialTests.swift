import Foundation
import NetStoreTestSupport
import Testing

/// The same seeded sequence of operations on the mount and on a local
/// directory: every result, errno, content and listing must match.
@Suite("Differential: the mount against a local directory", .serialized)
struct DifferentialTests {
    static let paths = ["f1", "f2", "d1", "d2", "d1/f1", "d1/f2", "d1/d3", "d1/d3/f1", "d2/f1", "s1", "d1/s2"]

    @Test("a seeded random sequence gives the same results on both", arguments: [UInt64(0x5eed_0001), UInt64(0x5eed_0002)])
    func sameResults(seed: UInt64) async throws {
        try await Self.compare(seed: seed)
    }

    /// Listings answered before a change made through the mount and handled
    /// after it must not undo it (a chmod, a utimens, a write) in what a stat
    /// or the next listing shows.
    @Test("the same while two threads walk the mount's tree all along", arguments: [UInt64(0x7eed_0003), UInt64(0x7eed_0004)])
    func sameResultsWhileWalked(seed: UInt64) async throws {
        try await Self.compare(seed: seed, walkers: 2)
    }

    static func compare(seed: UInt64, walkers: Int = 0) async throws {
        print("differential test seed: \(String(seed, radix: 16))")
        try await MountFixture.with { m in
            let walking = treeWalkers(of: m.mountpoint, threads: walkers)
            defer { walking.stop() }
            let local = m.root.appendingPathComponent("local").path
            try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
            var random = SeededRandom(seed: seed)
            var outcomes: [String: Int] = [:]
            for step in 0..<500 {
                let op = Operation.random(&random)
                let onMount = op.apply(root: m.mountpoint)
                let onLocal = op.apply(root: local)
                #expect(onMount == onLocal, "seed \(String(seed, radix: 16)) step \(step): \(op): mount \(onMount), local \(onLocal)")
                if onMount != onLocal { break }
                outcomes[onMount.hasPrefix("errno") ? onMount : "success", default: 0] += 1
            }
            print("differential test seed \(String(seed, radix: 16)) outcomes: \(outcomes.sorted { $0.key < $1.key })")
            // A sequence that only ever fails would prove nothing.
            #expect(outcomes["success", default: 0] >= 50)
            #expect(Snapshot.take(m.mountpoint) == Snapshot.take(local), "seed \(String(seed, radix: 16)): final trees differ")
            #expect(walkers == 0 || walking.stop() > 0, "the walkers walked")
        }
    }
}

/// Threads walking a tree (listing each directory and stat-ing each entry,
/// as `find` and `ls -lR` do), over and over until stopped.
func treeWalkers(of root: String, threads: Int) -> RepeatingThreads {
    RepeatingThreads(threads: threads) {
        _ = FileManager.default.enumerator(atPath: root)?.allObjects.count
        return true
    }
}

enum Operation: CustomStringConvertible {
    case write(String, offset: Int, bytes: [UInt8], truncate: Bool)
    case truncate(String, Int)
    case rename(String, String)
    case mkdir(String)
    case rmdir(String)
    case unlink(String)
    case link(String, String)
    case symlink(String, String)
    case chmod(String, mode_t)
    case utimens(String, Int)
    case read(String, offset: Int, count: Int)
    case list(String)
    case stat(String)

    static func random(_ r: inout SeededRandom) -> Operation {
        let paths = DifferentialTests.paths
        func path() -> String { paths[Int(r.next() % UInt64(paths.count))] }
        switch r.next() % 13 {
        case 0, 1:
            let count = Int(r.next() % 70_000) + 1
            return .write(path(), offset: Int(r.next() % 200_000), bytes: r.bytes(count), truncate: r.next() % 4 == 0)
        case 2: return .truncate(path(), Int(r.next() % 300_000))
        case 3: return .rename(path(), path())
        case 4: return .mkdir(path())
        case 5: return .rmdir(path())
        case 6: return .unlink(path())
        case 7: return .link(path(), path())
        case 8:
            // Targets that resolve, dangle, or name a directory; only at the symlink names, so loops stay rare.
            let targets = ["f1", "d1/f1", "missing", "d1", "../f2"]
            let names = ["s1", "d1/s2", "f2"]
            return .symlink(targets[Int(r.next() % 5)], names[Int(r.next() % 3)])
        case 9: return .chmod(path(), mode_t(r.next() % 0o1000))
        case 10: return .utimens(path(), Int(r.next() % 2_000_000_000))
        case 11: return .read(path(), offset: Int(r.next() % 250_000), count: Int(r.next() % 100_000))
        default: return r.next() % 2 == 0 ? .list(["", "d1", "d2", "d1/d3"][Int(r.next() % 4)]) : .stat(path())
        }
    }

    var description: String {
        switch self {
        case .write(let p, let offset, let bytes, let truncate): "write(\(p), at \(offset), \(bytes.count) bytes\(truncate ? ", O_TRUNC" : ""))"
        case .truncate(let p, let size): "truncate(\(p), \(size))"
        case .rename(let a, let b): "rename(\(a), \(b))"
        case .mkdir(let p): "mkdir(\(p))"
        case .rmdir(let p): "rmdir(\(p))"
        case .unlink(let p): "unlink(\(p))"
        case .link(let a, let b): "link(\(a), \(b))"
        case .symlink(let target, let p): "symlink(\(target), \(p))"
        case .chmod(let p, let mode): "chmod(\(p), \(String(mode, radix: 8)))"
        case .utimens(let p, let seconds): "utimens(\(p), \(seconds))"
        case .read(let p, let offset, let count): "read(\(p), at \(offset), \(count))"
        case .list(let p): "list(\(p))"
        case .stat(let p): "stat(\(p))"
        }
    }

    /// The outcome as text: "ok", "errno N", or what was read.
    func apply(root: String) -> String {
        func full(_ p: String) -> String { p.isEmpty ? root : "\(root)/\(p)" }
        func result(_ code: Int32) -> String { code == 0 ? "ok" : "errno \(errno)" }
        switch self {
        case .write(let p, let offset, let bytes, let truncate):
            let code = Posix.write(full(p), bytes, at: offset, flags: O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0))
            return code == 0 ? "ok" : "errno \(code)"
        case .truncate(let p, let size): return result(Glibc.truncate(full(p), off_t(size)))
        case .rename(let a, let b): return result(Glibc.rename(full(a), full(b)))
        case .mkdir(let p): return result(Glibc.mkdir(full(p), 0o755))
        case .rmdir(let p): return result(Glibc.rmdir(full(p)))
        case .unlink(let p): return result(Glibc.unlink(full(p)))
        case .link(let a, let b): return result(Glibc.link(full(a), full(b)))
        case .symlink(let target, let p): return result(Glibc.symlink(target, full(p)))
        case .chmod(let p, let mode): return result(Glibc.chmod(full(p), mode))
        case .utimens(let p, let seconds):
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 500)]
            return result(utimensat(AT_FDCWD, full(p), &times, 0))
        case .read(let p, let offset, let count):
            switch Posix.pread(full(p), offset: offset, count: count) {
            case .success(let bytes): return "read \(bytes.count) bytes, hash \(bytes.hashValue)"
            case .failure(let error): return "errno \(error.code)"
            }
        case .list(let p):
            switch Posix.list(full(p)) {
            case .success(let names): return names.joined(separator: ",")
            case .failure(let error): return "errno \(error.code)"
            }
        case .stat(let p):
            switch Posix.stat(full(p)) {
            case .success(let info): return Snapshot.describe(info, at: full(p))
            case .failure(let error): return "errno \(error.code)"
            }
        }
    }
}

/// A whole tree as comparable text: kinds, modes, sizes, link counts, times set, contents, targets.
enum Snapshot {
    static func describe(_ info: stat, at path: String) -> String {
        let kind = info.st_mode & S_IFMT
        var text = "mode \(String(info.st_mode, radix: 8))"
        switch kind {
        case S_IFREG:
            let content = (try? Posix.read(path).get()) ?? []
            text += " size \(info.st_size) nlink \(info.st_nlink) hash \(content.hashValue)"
            // Modification times match only where utimens set them (its marker: 500 ns).
            if info.st_mtim.tv_nsec == 500 { text += " mtime \(info.st_mtim.tv_sec)" }
        case S_IFLNK:
            text += " -> \((try? Posix.readlink(path).get()) ?? "?")"
        default:
            break  // directory sizes and link counts are the file system's own business
        }
        return text
    }

    static func take(_ root: String) -> [String] {
        var lines: [String] = []
        func walk(_ relative: String) {
            let full = relative.isEmpty ? root : "\(root)/\(relative)"
            guard case .success(let names) = Posix.list(full) else { return }
            for name in names {
                let child = relative.isEmpty ? name : "\(relative)/\(name)"
                guard case .success(let info) = Posix.stat("\(root)/\(child)") else { continue }
                lines.append("\(child): \(describe(info, at: "\(root)/\(child)"))")
                if info.st_mode & S_IFMT == S_IFDIR { walk(child) }
            }
        }
        walk("")
        return lines
    }
}
