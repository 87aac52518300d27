import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

/// A small seeded generator, so that a failing fuzz run can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Feeds inputs to the decoder and checks what any input must give: whole
/// frames (each of which encodes back to exactly the bytes it came from), then
/// nil with nothing consumed, or a `ProtocolError`. A trap fails the run; the
/// seed printed at its start replays it.
struct FuzzHarness {
    /// `NETSTORE_FUZZ_SEED=<n>` replays a run; otherwise every run is new.
    static let seed: UInt64 = {
        let seed = ProcessInfo.processInfo.environment["NETSTORE_FUZZ_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("protocol fuzz seed: \(seed) (replay with NETSTORE_FUZZ_SEED=\(seed))")
        return seed
    }()

    let decoder = FrameDecoder()
    private(set) var cases = 0
    private(set) var frames = 0
    private(set) var waits = 0
    private(set) var errors = 0
    private(set) var failures = [String]()

    mutating func feed(_ input: ByteBuffer, _ label: @autoclosure () -> String) {
        cases += 1
        feedAsRequests(input, label)
        feedAsResponses(input, label)
    }

    private mutating func fail(_ what: String, _ input: ByteBuffer, _ label: () -> String) {
        guard failures.count < 20 else { return }
        failures.append("seed \(Self.seed), \(label()): \(what); input \(input.hexDump.prefix(400))")
    }

    private mutating func feedAsRequests(_ input: ByteBuffer, _ label: () -> String) {
        let decoder = self.decoder
        feed(input, label, kind: "request",
             decode: { try decoder.nextRequest(from: &$0) },
             encode: { try FrameCodec.tryEncode($0, into: &$1) })
    }

    private mutating func feedAsResponses(_ input: ByteBuffer, _ label: () -> String) {
        let decoder = self.decoder
        feed(input, label, kind: "response",
             decode: { try decoder.nextResponse(from: &$0) },
             encode: { try FrameCodec.tryEncode($0, into: &$1) })
    }

    /// Decodes frames of one direction until the input is used up, waits for
    /// more, or is refused; every decoded frame must re-encode to its bytes.
    private mutating func feed<Frame>(
        _ input: ByteBuffer, _ label: () -> String, kind: String,
        decode: (inout ByteBuffer) throws -> Frame?,
        encode: (Frame, inout ByteBuffer) throws -> Void
    ) {
        var buffer = input
        // Each round consumes at least a header, so this bounds the rounds.
        for _ in 0...(input.readableBytes / 20 + 1) {
            let before = buffer
            let frame: Frame?
            do {
                frame = try decode(&buffer)
            } catch {
                errors += 1
                return
            }
            guard let frame else {
                if buffer.readerIndex != before.readerIndex { fail("nil consumed bytes", input, label) }
                waits += 1
                return
            }
            frames += 1
            var again = ByteBuffer()
            do {
                try encode(frame, &again)
            } catch {
                fail("decoded \(kind) does not encode: \(error)", input, label)
                return
            }
            checkConsumed(before, buffer, again, input, label)
        }
        fail("no end to the frames", input, label)
    }

    /// The bytes a frame consumed are exactly its encoding: the decoder read
    /// no more and no less than the one frame, and the encoding is canonical.
    private mutating func checkConsumed(
        _ before: ByteBuffer, _ after: ByteBuffer, _ reencoded: ByteBuffer, _ input: ByteBuffer, _ label: () -> String
    ) {
        let consumed = after.readerIndex - before.readerIndex
        guard let slice = before.getSlice(at: before.readerIndex, length: consumed), slice == reencoded else {
            fail("consumed \(consumed) bytes that differ from the frame's encoding", input, label)
            return
        }
    }

    /// `frames`/`errors`: the inputs must have reached that outcome at least
    /// once, so a generator that only ever makes one kind of input shows up.
    func check(
        minimumCases: Int, frames expectFrames: Bool = false, errors expectErrors: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))", sourceLocation: sourceLocation)
        #expect(cases >= minimumCases, "seed \(Self.seed)", sourceLocation: sourceLocation)
        if expectFrames { #expect(frames > 0, "seed \(Self.seed): no input decoded", sourceLocation: sourceLocation) }
        if expectErrors { #expect(errors > 0, "seed \(Self.seed): no input refused", sourceLocation: sourceLocation) }
    }
}
