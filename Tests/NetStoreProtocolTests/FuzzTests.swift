import NIOCore
import NetStoreCore
import NetStoreProtocol
import Testing

/// Hostile input gives a frame, nil or a `ProtocolError`: never a trap, a hang
/// or a read past the frame. Over 100,000 cases per run, from a printed seed.
@Suite(.timeLimit(.minutes(1))) struct FuzzTests {
    static let validFrames: [ByteBuffer] =
        Fixtures.requestFrames.map(Fixtures.encoded) + Fixtures.responseFrames.map(Fixtures.encoded)

    @Test func randomBytes() {
        var random = SplitMix64(seed: FuzzHarness.seed ^ 0x01)
        var harness = FuzzHarness()
        for index in 0..<20_000 {
            let count = Int.random(in: 0..<64, using: &random)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            harness.feed(ByteBuffer(bytes: bytes), "random bytes #\(index)")
        }
        harness.check(minimumCases: 20_000, errors: true)
    }

    /// Random payloads behind a valid header reach every payload parser.
    @Test func randomPayloadsBehindValidHeaders() {
        var random = SplitMix64(seed: FuzzHarness.seed ^ 0x02)
        var harness = FuzzHarness()
        for index in 0..<30_000 {
            let opcode = Opcode.allCases.randomElement(using: &random)!
            let kind = UInt8.random(in: 1...2, using: &random)
            let status: UInt16 = Bool.random(using: &random) ? 0 : ErrorCode.allCases.randomElement(using: &random)!.rawValue
            let count = Int.random(in: 0..<120, using: &random)
            // Small values make plausible counts, lengths, bools and tags.
            let payload = (0..<count).map { _ in
                Bool.random(using: &random) ? UInt8.random(in: 0...3, using: &random) : UInt8.random(in: 0...255, using: &random)
            }
            let input = rawFrame(kind: kind, opcode: opcode.rawValue, status: status, requestID: random.next()) {
                $0.writeBytes(payload)
            }
            harness.feed(input, "random payload #\(index) for \(opcode)")
        }
        harness.check(minimumCases: 30_000, frames: true, errors: true)
    }

    /// Every proper prefix of a valid frame is incomplete, never an error.
    @Test func everyTruncationWaits() throws {
        let decoder = FrameDecoder()
        var cases = 0
        for (index, frame) in Self.validFrames.enumerated() {
            let isRequest = index < Fixtures.requestFrames.count
            for length in 0..<frame.readableBytes {
                var prefix = frame.getSlice(at: frame.readerIndex, length: length)!
                if isRequest {
                    #expect(try decoder.nextRequest(from: &prefix) == nil, "frame \(index) cut to \(length)")
                } else {
                    #expect(try decoder.nextResponse(from: &prefix) == nil, "frame \(index) cut to \(length)")
                }
                #expect(prefix.readerIndex == 0)
                cases += 1
            }
        }
        #expect(cases > 1000)
    }

    @Test func bitFlips() {
        var random = SplitMix64(seed: FuzzHarness.seed ^ 0x03)
        var harness = FuzzHarness()
        for index in 0..<30_000 {
            let frameIndex = Int.random(in: 0..<Self.validFrames.count, using: &random)
            var bytes = Array(Self.validFrames[frameIndex].readableBytesView)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            }
            harness.feed(ByteBuffer(bytes: bytes), "bit flips #\(index) in frame \(frameIndex)")
        }
        harness.check(minimumCases: 30_000, frames: true, errors: true)
    }

    @Test func byteChanges() {
        var random = SplitMix64(seed: FuzzHarness.seed ^ 0x04)
        var harness = FuzzHarness()
        let interesting: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xC0, 0xED, 0xFE, 0xFF]
        for index in 0..<20_000 {
            let frameIndex = Int.random(in: 0..<Self.validFrames.count, using: &random)
            var bytes = Array(Self.validFrames[frameIndex].readableBytesView)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let value = Bool.random(using: &random)
                    ? interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = value
            }
            // Sometimes also cut the frame short or glue a second one behind it.
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
            case 1: bytes += Self.validFrames.randomElement(using: &random)!.readableBytesView
            default: break
            }
            harness.feed(ByteBuffer(bytes: bytes), "byte changes #\(index) in frame \(frameIndex)")
        }
        harness.check(minimumCases: 20_000, frames: true, errors: true)
    }

    /// Each valid frame with its length replaced by an absurd or off-by-one value.
    @Test func absurdAndWrongLengths() {
        var harness = FuzzHarness()
        let absurd: [UInt32] = [0, 1, 15, 0xFFFF_FFFF, 0x8000_0000, UInt32(Limits.maxFrameSize), UInt32(Limits.maxFrameSize - 3)]
        for (frameIndex, frame) in Self.validFrames.enumerated() {
            let length = frame.getInteger(at: frame.readerIndex, as: UInt32.self)!
            for replacement in absurd + [16, length &- 1, length &+ 1, length / 2] {
                var input = frame
                input.setInteger(replacement, at: input.readerIndex)
                harness.feed(input, "frame \(frameIndex) with length \(replacement)")
            }
        }
        harness.check(minimumCases: 100, errors: true)
    }

    /// Every opcode value, for both kinds: the unknown ones are refused,
    /// the known ones with an empty payload decode or are refused, never wait.
    @Test func everyOpcodeValue() throws {
        let decoder = FrameDecoder()
        var wrong = [String]()
        for raw in UInt16.min...UInt16.max {
            var request = rawFrame(kind: 1, opcode: raw)
            var response = rawFrame(kind: 2, opcode: raw)
            let requestResult = Result { () throws(ProtocolError) in try decoder.nextRequest(from: &request) }
            let responseResult = Result { () throws(ProtocolError) in try decoder.nextResponse(from: &response) }
            switch (Opcode(rawValue: raw), requestResult, responseResult) {
            case (nil, .failure, .failure), (_?, .success(_?), _), (_?, .failure, _):
                break
            default:
                wrong.append("opcode \(raw): \(requestResult), \(responseResult)")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
    }
}
