import NetStoreCore
import NetStoreProtocol
@testable import NetStoreServer
import Testing

@Suite("ServerMetrics")
struct ServerMetricsTests {
    @Test("requests are counted by opcode and result, timed by opcode, and rendered as Prometheus text")
    func countsAndRenders() async {
        let metrics = ServerMetrics()
        for _ in 0..<3 {
            _ = await metrics.measure(.getattr) { Result<Int, NetStoreError>.success(1) }
        }
        let failed = await metrics.measure(.lookup) { Result<Int, NetStoreError>.failure(NetStoreError(.noEntry, "x")) }
        #expect(failed == .failure(NetStoreError(.noEntry, "x")), "the result passes through unchanged")
        metrics.bytesReceived.increment(by: Int64(42))
        metrics.update([.blocks: 7, .isPrimary: 1])

        let text = String(decoding: metrics.render(), as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"netstore_requests_total{opcode="getattr",result="ok"} 3"#), "\(text)")
        #expect(lines.contains(#"netstore_requests_total{opcode="lookup",result="ENOENT"} 1"#), "\(text)")
        #expect(lines.contains(#"netstore_request_duration_seconds_count{opcode="getattr"} 3"#), "\(text)")
        #expect(lines.contains(#"netstore_request_duration_seconds_bucket{opcode="lookup",le="+Inf"} 1"#), "\(text)")
        #expect(lines.contains("netstore_received_bytes_total 42"), "\(text)")
        #expect(lines.contains("netstore_blocks 7.0"), "\(text)")
        #expect(lines.contains("netstore_primary 1.0"), "\(text)")
        #expect(lines.contains("# TYPE netstore_requests_total counter"), "\(text)")
    }

    @Test("two servers in one process keep their counts apart")
    func separateRegistries() async {
        let first = ServerMetrics()
        let second = ServerMetrics()
        _ = await first.measure(.ping) { Result<Int, NetStoreError>.success(0) }
        let text = String(decoding: second.render(), as: UTF8.self)
        #expect(!text.contains(#"opcode="ping""#), "\(text)")
    }
}
