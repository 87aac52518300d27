import NetStoreCore
import NetStoreStorage
import Testing

@Suite("Mutation codec")
struct MutationCodecTests {
    static let block = BlockID(bytes: [UInt8](repeating: 0xAB, count: 32))!
    static let token = [UInt8](repeating: 7, count: 32)

    /// One of each kind, with every optional field both ways somewhere.
    static let samples: [Mutation] = [
        .mkdir(account: 1, parent: 2, name: "dir", mode: 0o755, uid: 1000, gid: 100, now: 5),
        .mknod(account: 1, parent: 2, name: "fifo", kind: .fifo, mode: 0o644, uid: 1, gid: 2, now: -1),
        .mknod(account: 1, parent: 2, name: "sock", kind: .socket, mode: 0o755, uid: 1, gid: 2, now: 3),
        .mknod(account: 1, parent: 2, name: "loop", kind: .blockDevice, mode: 0o660, uid: 0, gid: 6, rdev: .max, now: 4),
        .symlink(account: 1, parent: 2, name: "l", target: "../ü", uid: 0, gid: 0, now: 9),
        .link(account: 1, node: 7, newParent: 2, newName: "again", now: 10),
        .unlink(account: 1, parent: 2, name: "x", now: 11),
        .rmdir(account: 1, parent: 2, name: "d", now: 12),
        .rename(account: 1, parent: 2, name: "a", newParent: 3, newName: "b", flags: [.noReplace], now: 13),
        .setattr(account: 1, node: 4, changes: SetAttributes(), now: 14),
        .setattr(account: 1, node: 4, changes: SetAttributes(mode: 0o600, uid: 5, gid: 6, size: 1 << 40,
                                                            atime: .now, mtime: .nanoseconds(-3)), now: 15),
        .commit(account: 1, node: 4, baseVersion: 2, size: 3 << 20, blocks: [block, .hole, block], now: 16),
        .createFile(account: 1, parent: 2, name: "small", mode: 0o640, uid: 1000, gid: 100, size: 5, blocks: [block], now: 16),
        .createFile(account: 1, parent: 2, name: "empty", mode: 0o600, uid: 0, gid: 0, size: 0, blocks: [], now: -2),
        .createFiles(account: 1, files: [
            NewFile(parent: 2, name: "a", mode: 0o644, uid: 1, gid: 2, size: 5, blocks: [block]),
            NewFile(parent: 3, name: "é", mode: 0o600, uid: 0, gid: 0, size: 0, blocks: []),
        ], now: 17),
        .createFiles(account: 1, files: [], now: 0),
        .removeEntries(account: 1, entries: [
            EntryRemoval(parent: 2, name: "a", isDirectory: false),
            EntryRemoval(parent: 3, name: "é", isDirectory: true),
        ], now: 18),
        .removeEntries(account: 1, entries: [], now: 0),
        .addUser(name: "alice", role: .admin, passwordHash: "scrypt$1$2$3$s$h", now: 17),
        .setPassword(name: "alice", passwordHash: "h2", now: 18),
        .removeUser(name: "alice"),
        .createSession(user: 3, checkedHash: "h", rehash: nil, tokenHash: token, now: 19, expiresNs: 20, maxSessions: 1000),
        .createSession(user: 3, checkedHash: "h", rehash: "h3", tokenHash: token, now: 19, expiresNs: 20, maxSessions: 1),
        .deleteSession(tokenHash: token),
        .pruneSessions(now: 21),
    ]

    @Test func everyKindRoundTrips() throws {
        for mutation in Self.samples {
            let bytes = MutationCodec.encode(mutation)
            #expect(!bytes.isEmpty)
            #expect(try MutationCodec.decode(bytes) == mutation, "\(mutation.name)")
        }
    }

    @Test func exactBytes() {
        let mkdir = MutationCodec.encode(.mkdir(account: 1, parent: 2, name: "ab", mode: 0o755, uid: 3, gid: 4, now: 5))
        #expect(mkdir == [
            1, 1,                                   // format version, kind mkdir
            0, 0, 0, 0, 0, 0, 0, 1,                 // account
            0, 0, 0, 0, 0, 0, 0, 2,                 // parent
            0, 2, 0x61, 0x62,                       // name "ab"
            0, 0, 0x01, 0xED,                       // mode 0o755
            0, 0, 0, 3, 0, 0, 0, 4,                 // uid, gid
            0, 0, 0, 0, 0, 0, 0, 5,                 // now
        ])
        let setattr = MutationCodec.encode(.setattr(
            account: 1, node: 2, changes: SetAttributes(size: 9, mtime: .nanoseconds(-1)), now: 3))
        #expect(setattr == [
            1, 8,
            0, 0, 0, 0, 0, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 0, 2,
            0b0010_1000,                            // size and mtime present
            0, 0, 0, 0, 0, 0, 0, 9,                 // size
            1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // mtime: nanoseconds -1
            0, 0, 0, 0, 0, 0, 0, 3,
        ])
        #expect(MutationCodec.encode(.removeUser(name: "bo")) == [1, 34, 0, 2, 0x62, 0x6F])
    }

    /// A mknod without a device number keeps the bytes of format 1 as first
    /// released (entries already in logs decode unchanged); one with a device
    /// number is kind 10, the same fields and rdev before the time.
    @Test func mknodBytesOldAndDevice() throws {
        let fields: [UInt8] = [
            0, 0, 0, 0, 0, 0, 0, 1,                 // account
            0, 0, 0, 0, 0, 0, 0, 2,                 // parent
            0, 1, 0x63,                             // name "c"
        ]
        let fifoBytes: [UInt8] = [1, 2] + fields + [4, 0, 0, 0x01, 0xA4, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5]
        let fifo = Mutation.mknod(account: 1, parent: 2, name: "c", kind: .fifo, mode: 0o644, uid: 3, gid: 4, now: 5)
        #expect(MutationCodec.encode(fifo) == fifoBytes)
        #expect(try MutationCodec.decode(fifoBytes) == fifo)

        let device = Mutation.mknod(account: 1, parent: 2, name: "c", kind: .characterDevice, mode: 0o644, uid: 3, gid: 4, rdev: 0x103, now: 5)
        let deviceBytes: [UInt8] = [1, 10] + fields + [6, 0, 0, 0x01, 0xA4, 0, 0, 0, 3, 0, 0, 0, 4]
            + [0, 0, 0, 0, 0, 0, 0x01, 0x03]        // rdev
            + [0, 0, 0, 0, 0, 0, 0, 5]
        #expect(MutationCodec.encode(device) == deviceBytes)
        #expect(try MutationCodec.decode(deviceBytes) == device)
    }

    @Test func everyTruncationIsRefused() {
        for mutation in Self.samples {
            let bytes = MutationCodec.encode(mutation)
            for length in 0..<bytes.count {
                #expect(throws: NetStoreError.self, "\(mutation.name) cut at \(length)") {
                    try MutationCodec.decode(Array(bytes.prefix(length)))
                }
            }
            #expect(throws: NetStoreError.self) { try MutationCodec.decode(bytes + [0]) }
        }
    }

    @Test func malformedFieldsAreRefused() {
        let cases: [(String, [UInt8])] = [
            ("unknown version", [2, 1]),
            ("unknown kind", [1, 99]),
            ("unknown node kind", [1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0x61, 9]),
            ("device mknod with rdev 0", [1, 10] + [UInt8](repeating: 0, count: 16) + [0, 1, 0x61, 6] + [UInt8](repeating: 0, count: 28)),
            ("name over the limit", [1, 34, 0xFF, 0xFF] + [UInt8](repeating: 0x61, count: 70)),
            ("name not UTF-8", [1, 34, 0, 2, 0xC3, 0x28]),
            ("unknown role", [1, 32, 0, 1, 0x61, 7, 0, 0] + [UInt8](repeating: 0, count: 8)),
            ("unknown setattr bits", [1, 8] + [UInt8](repeating: 0, count: 16) + [0x40] + [UInt8](repeating: 0, count: 8)),
            ("too many blocks", [1, 9] + [UInt8](repeating: 0, count: 32) + [0xFF, 0xFF, 0xFF, 0xFF]),
            ("a batch over the limit", [1, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x01]),
            ("bad optional flag", [1, 35, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x68, 2]),
        ]
        for (reason, bytes) in cases {
            let error = #expect(throws: NetStoreError.self, "\(reason)") { try MutationCodec.decode(bytes) }
            #expect(error?.code == .protocolError)
        }
    }

    /// Random mutations of valid encodings: each decodes or throws, never traps,
    /// and what decodes encodes back to the same bytes.
    @Test func fuzzedInputNeverTraps() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        for round in 0..<20_000 {
            var bytes = MutationCodec.encode(Self.samples[round % Self.samples.count])
            for _ in 0...(next() % 4) {
                guard !bytes.isEmpty else { break }
                let at = Int(next() % UInt64(bytes.count))
                switch next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
                }
            }
            if let decoded = try? MutationCodec.decode(bytes) {
                #expect(MutationCodec.encode(decoded) == bytes)
            }
        }
    }
}
