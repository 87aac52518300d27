import NetStoreTestSupport
import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

@Suite("Malformed frames against the real server")
struct MalformedFrameTests {
    @Test("1,000 malformed frames leave the server serving and the store unchanged")
    func malformedFrames() async throws {
        let fixture = try await Fixture()
        let alice = try fixture.user("alice")
        let local = fixture.dir.path("keep")
        try writeRandomFile(local, size: 3 * Limits.blockSize / 2, seed: 3)
        #expect(try alice.run("put", local.path, "/keep").succeeded)
        #expect(try alice.run("mkdir", "/dir").succeeded)
        let before = try snapshot(fixture, alice)

        let token = try rawLogin(RawConnection(port: fixture.server.port), "alice", "alice-password-1").token
        let seed = UInt64.random(in: 1...UInt64.max)
        var rng = SeededGenerator(seed: seed)
        let valid = validFrames()
        var closedWithError = 0
        for index in 0..<1000 {
            let raw = try RawConnection(port: fixture.server.port)
            // Half of the cases arrive on a logged-in connection.
            if index % 2 == 1 {
                guard case .success(.session) = try raw.call(.auth(token: token)) else {
                    throw TestFailure("AUTH with alice's token failed")
                }
            }
            let kind = index % 8
            try raw.send(bytes: malformedFrame(kind: kind, valid: valid[index % valid.count], rng: &rng))
            // Random bytes may announce a frame longer than what was sent, and a
            // truncated frame is incomplete by design: hang up so the server sees the end.
            let mayBeIncomplete = kind == 0 || kind == 6
            if mayBeIncomplete { raw.shutdownWrite() }
            var sawProtocolError = false
            while let frame = try raw.receive() {
                if case let .failure(error) = frame.result, error.code == .protocolError { sawProtocolError = true }
            }
            if sawProtocolError { closedWithError += 1 }
            if !mayBeIncomplete && !sawProtocolError {
                Issue.record("malformed frame of kind \(kind) closed without a protocol error (seed \(seed))")
            }
        }
        #expect(closedWithError >= 750, "malformed frames are answered with a protocol error (seed \(seed))")

        // Still serving, nothing changed.
        let raw = try RawConnection(port: fixture.server.port)
        guard case .success(.empty) = try raw.call(.ping) else {
            Issue.record("ping failed after malformed frames (seed \(seed))"); return
        }
        #expect(fixture.server.isRunning)
        let after = try snapshot(fixture, alice)
        #expect(after == before, "store unchanged (seed \(seed))")
    }

    private func snapshot(_ fixture: Fixture, _ alice: CLI) throws -> String {
        let listing = try alice.run("ls", "-l", "/")
        let status = try fixture.admin.run("status")
        let users = try fixture.admin.run("user", "list")
        // Uptime changes, and so does the log (a login is an entry); the counts must not.
        let counts = status.stdout.replacing(#/up [0-9dhms ]+?  /#, with: "").replacing(#/  term \d+  log .*/#, with: "")
        return [listing.stdout, users.stdout, counts].joined(separator: "\n")
    }

    /// Well-formed frames that would change the store, as raw bytes.
    private func validFrames() -> [[UInt8]] {
        let requests: [Request] = [
            .mkdir(parent: 1, name: "x", mode: 0o755, uid: 0, gid: 0),
            .unlink(parent: 1, name: "keep"),
            .commit(node: 2, baseVersion: 1, size: 10, blocks: [BlockID.hole]),
            .userAdd(name: "eve", password: "password-eve", role: .admin),
            .putBlock(id: BlockID.hole, data: ByteBuffer(bytes: [1, 2, 3])),
        ]
        return requests.map { request in
            var buffer = ByteBuffer()
            FrameCodec.encode(RequestFrame(requestID: 7, request: request), into: &buffer)
            return Array(buffer.readableBytesView)
        }
    }

    private func malformedFrame(kind: Int, valid: [UInt8], rng: inout SeededGenerator) -> [UInt8] {
        var frame = valid
        switch kind {
        case 0: // random bytes
            return (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 1: // bad magic
            frame[4] ^= 0xFF
        case 2: // absurd length
            frame.replaceSubrange(0..<4, with: [0xFF, 0xFF, 0xFF, UInt8.random(in: 0...255, using: &rng)])
        case 3: // unknown opcode
            frame.replaceSubrange(8..<10, with: [0x7F, UInt8.random(in: 0...255, using: &rng)])
        case 4: // a length shorter than the payload: fields run past the frame's end
            let length = UInt32(frame.count - 4 - Int.random(in: 1...min(8, frame.count - 21), using: &rng))
            frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian, Array.init))
        case 5: // wrong version or kind
            frame[Int.random(in: 6...7, using: &rng)] = UInt8.random(in: 3...255, using: &rng)
        case 6: // truncated, then the client hangs up
            frame.removeLast(Int.random(in: 1...frame.count - 1, using: &rng))
            return frame
        default: // a payload byte flipped to nonsense, plus trailing garbage
            let at = Int.random(in: 20..<frame.count, using: &rng)
            frame[at] = ~frame[at]
            frame.append(contentsOf: [0xDE, 0xAD])
            let length = UInt32(frame.count - 4)
            frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian, Array.init))
        }
        return frame
    }
}

/// xorshift64*: a reproducible stream from one printed seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
