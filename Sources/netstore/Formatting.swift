#if canImport(Glibc)
import Glibc
#endif

/// Times and columns for people, in the local time zone.
enum Formatting {
    static func padLeft(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// As ls shows it: "Mar  4 12:05" within six months, "Mar  4  2023" otherwise.
    static func lsTime(nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        let now = Int64(time(nil))
        let sixMonths: Int64 = 182 * 24 * 3600
        let recent = seconds <= now + 3600 && now - seconds < sixMonths
        return strftime(seconds, recent ? "%b %e %H:%M" : "%b %e  %Y")
    }

    /// As stat shows it: "2024-03-04 12:05:06.123456789 +0100".
    static func fullTime(nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        let fraction = String(nanoseconds % 1_000_000_000 < 0 ? 0 : nanoseconds % 1_000_000_000)
        let padded = String(repeating: "0", count: 9 - fraction.count) + fraction
        return strftime(seconds, "%Y-%m-%d %H:%M:%S") + ".\(padded) " + strftime(seconds, "%z")
    }

    static func duration(seconds: UInt64) -> String {
        let days = seconds / 86_400
        let hours = seconds % 86_400 / 3600
        let minutes = seconds % 3600 / 60
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(seconds % 60)s" }
        return "\(seconds)s"
    }

    private static func strftime(_ seconds: Int64, _ format: String) -> String {
        var clock = time_t(seconds)
        var parts = tm()
        localtime_r(&clock, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = Glibc.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
