import NetStoreClient
import NetStoreCore
import Testing

@Suite("Formatting")
struct FormattingTests {
    @Test("block layout of sizes 0, 1, blockSize and blockSize + 1")
    func blockLayout() {
        let size = UInt64(Limits.blockSize)
        #expect(BlockLayout(size: 0).blockCount == 0)
        #expect(BlockLayout(size: 0).ranges.isEmpty)
        #expect(BlockLayout(size: 1).ranges == [0..<1])
        #expect(BlockLayout(size: size).ranges == [0..<size])
        #expect(BlockLayout(size: size + 1).ranges == [0..<size, size..<(size + 1)])
        #expect(BlockLayout(size: 3 * size).blockCount == 3)
        #expect(BlockLayout(size: 10, blockSize: 4).ranges == [0..<4, 4..<8, 8..<10])
    }

    @Test("sizes in powers of 1024")
    func byteCounts() {
        #expect(ByteCount.format(0) == "0 B")
        #expect(ByteCount.format(1023) == "1023 B")
        #expect(ByteCount.format(1024) == "1.0 KiB")
        #expect(ByteCount.format(1536) == "1.5 KiB")
        #expect(ByteCount.format(5 * 1024 * 1024 * 1024) == "5.0 GiB")
    }

    @Test("a progress line shows percent, bar, bytes and rate")
    func progressLine() {
        let half = TransferProgress(bytesDone: 1024 * 1024, totalBytes: 2 * 1024 * 1024)
        #expect(half.fraction == 0.5)
        #expect(half.formatted(elapsed: .seconds(2), barWidth: 10)
            == " 50% [#####.....] 1.0 MiB / 2.0 MiB  512.0 KiB/s")
        let done = TransferProgress(bytesDone: 10, totalBytes: 10)
        #expect(done.formatted(elapsed: .zero, barWidth: 4) == "100% [####] 10 B / 10 B  0 B/s")
        let empty = TransferProgress(bytesDone: 0, totalBytes: 0)
        #expect(empty.fraction == 1)
        #expect(empty.isComplete)
    }

    @Test("mode strings as ls -l shows them")
    func modeStrings() {
        func mode(_ kind: NodeKind, _ bits: UInt32) -> String {
            var node = attributes(id: 1, kind: kind)
            node.mode = bits
            return node.modeString
        }
        #expect(mode(.directory, 0o755) == "drwxr-xr-x")
        #expect(mode(.file, 0o644) == "-rw-r--r--")
        #expect(mode(.symlink, 0o777) == "lrwxrwxrwx")
        #expect(mode(.fifo, 0o600) == "prw-------")
        #expect(mode(.socket, 0o755) == "srwxr-xr-x")
        #expect(mode(.characterDevice, 0o666) == "crw-rw-rw-")
        #expect(mode(.blockDevice, 0o660) == "brw-rw----")
        #expect(mode(.file, 0o4755) == "-rwsr-xr-x")
        #expect(mode(.file, 0o2644) == "-rw-r-Sr--")
        #expect(mode(.directory, 0o1777) == "drwxrwxrwt")
    }
}
