/// How far an upload or download has come.
public struct TransferProgress: Sendable, Hashable {
    public var bytesDone: UInt64
    public var totalBytes: UInt64

    public init(bytesDone: UInt64, totalBytes: UInt64) {
        self.bytesDone = bytesDone
        self.totalBytes = totalBytes
    }

    /// 0 to 1; an empty transfer is complete.
    public var fraction: Double {
        totalBytes == 0 ? 1 : min(1, Double(bytesDone) / Double(totalBytes))
    }

    public var isComplete: Bool { bytesDone >= totalBytes }

    /// One status line: " 42% [#####....]  420.0 MiB / 1.0 GiB  85.3 MiB/s".
    /// `elapsed` is the time since the transfer started, for the rate.
    public func formatted(elapsed: Duration, barWidth: Int = 24) -> String {
        let percent = Int((fraction * 100).rounded(.down))
        let filled = Int((fraction * Double(barWidth)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? UInt64(Double(bytesDone) / seconds) : 0
        let percentText = String(repeating: " ", count: max(0, 3 - String(percent).count)) + "\(percent)%"
        return "\(percentText) [\(bar)] \(ByteCount.format(bytesDone)) / \(ByteCount.format(totalBytes))"
            + "  \(ByteCount.format(rate))/s"
    }
}

/// Sizes for people, in powers of 1024 ("512 B", "1.5 KiB", "3.0 GiB").
public enum ByteCount {
    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        if bytes < 1024 { return "\(bytes) B" }
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        // One decimal, rounded half up, without Foundation's formatters.
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
