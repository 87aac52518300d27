import NetStoreCore
import NetStoreProtocol
import Prometheus
import Synchronization

/// A server's metrics, in Prometheus form (`MetricsEndpoint` serves them): requests
/// by opcode and result, their latency, bytes on the client connections, and
/// gauges of the replicated log and the store sampled when scraped, and on the
/// primary each backup's progress.
///
/// Each server has a registry of its own (no process-wide state), so servers in
/// one test process do not mix their counts.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let bytesReceived: Counter
    let bytesSent: Counter
    let connections: Gauge
    /// On the primary: client blocks sent on to a backup before their commit, and
    /// those not sent (queue full, or the backup unreachable; their commit sends them).
    let blocksForwarded: Counter
    let blocksForwardDropped: Counter
    private let requests = Mutex<[RequestKey: Counter]>([:])
    private let latencies = Mutex<[Opcode: DurationHistogram]>([:])
    private let gauges: [Sample: Gauge]
    /// On the primary, per backup (by its address): its durable matching index and its lag.
    private let backupGauges = Mutex<[String: (match: Gauge, lag: Gauge)]>([:])

    private struct RequestKey: Hashable {
        var opcode: Opcode
        var result: String
    }

    /// What the endpoint reads from the server's state at each scrape.
    enum Sample: CaseIterable {
        case term, lastIndex, commitIndex, appliedIndex, isPrimary, nodes, users, blocks, blockBytes
    }

    /// From 100 µs (a cached read) to 10 s (the proposal timeout).
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    public init() {
        bytesReceived = registry.makeCounter(descriptor: Self.name(
            "received", unit: "bytes_total", "Bytes read from client and replica connections."))
        bytesSent = registry.makeCounter(descriptor: Self.name(
            "sent", unit: "bytes_total", "Bytes written to client and replica connections."))
        connections = registry.makeGauge(descriptor: Self.name(
            "open_connections", unit: "", "Connections to the request port open now."))
        blocksForwarded = registry.makeCounter(descriptor: Self.name(
            "replication_blocks_forwarded", unit: "total",
            "On the primary: blocks from clients sent on to a backup before their commit (once per backup)."))
        blocksForwardDropped = registry.makeCounter(descriptor: Self.name(
            "replication_blocks_forward_dropped", unit: "total",
            "On the primary: blocks from clients not sent on to a backup early (queue full or backup unreachable); their commit sends them."))
        var gauges: [Sample: Gauge] = [:]
        for sample in Sample.allCases {
            let (name, unit, help) = Self.describe(sample)
            gauges[sample] = registry.makeGauge(descriptor: Self.name(name, unit: unit, help))
        }
        self.gauges = gauges
    }

    /// Runs one request's handling and counts it by opcode and result ("ok" or the
    /// error code's name), with its time in the opcode's latency histogram.
    public func measure<T>(
        _ opcode: Opcode, _ body: () async -> Result<T, NetStoreError>
    ) async -> Result<T, NetStoreError> {
        let start = ContinuousClock.now
        let result = await body()
        let elapsed = ContinuousClock.now - start
        let outcome: String
        switch result {
        case .success: outcome = "ok"
        case let .failure(error): outcome = error.code.name
        }
        record(opcode, result: outcome, duration: elapsed)
        return result
    }

    func record(_ opcode: Opcode, result: String, duration: Duration) {
        let key = RequestKey(opcode: opcode, result: result)
        let counter = requests.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.name("requests", unit: "total", "Requests answered, by opcode and result."),
                labels: [("opcode", "\(opcode)"), ("result", result)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let histogram = latencies.withLock { histograms in
            if let histogram = histograms[opcode] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.name("request_duration", unit: "seconds", "Time from a request's decoding to its answer, by opcode."),
                labels: [("opcode", "\(opcode)")], buckets: Self.latencyBuckets)
            histograms[opcode] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    /// Sets the sampled gauges; one missing from `values` keeps its last value.
    func update(_ values: [Sample: Int64]) {
        for (sample, value) in values { gauges[sample]?.set(value) }
    }

    /// One backup as the primary sees it, for `updateBackups`.
    struct BackupSample: Sendable {
        /// The label: the backup's address as the cluster names it.
        var name: String
        /// Its log matches the primary's and is durable up to here.
        var match: Int64
        /// Entries of the primary's log it has yet to make durable.
        var lag: Int64
    }

    /// Sets the per-backup gauges; a backup not in `backups` (every one, once this
    /// server is no longer primary) leaves the exposition rather than show a stale value.
    func updateBackups(_ backups: [BackupSample]) {
        backupGauges.withLock { known in
            let current = Set(backups.map(\.name))
            for (name, gauges) in known where !current.contains(name) {
                registry.unregisterGauge(gauges.match)
                registry.unregisterGauge(gauges.lag)
                known[name] = nil
            }
            for backup in backups {
                let gauges = known[backup.name] ?? (
                    match: registry.makeGauge(
                        descriptor: Self.name("replication_backup_match_index", unit: "",
                                              "On the primary: index up to which a backup's log matches this one and is durable there."),
                        labels: [("backup", backup.name)]),
                    lag: registry.makeGauge(
                        descriptor: Self.name("replication_backup_lag", unit: "entries",
                                              "On the primary: entries of this server's log a backup has yet to make durable."),
                        labels: [("backup", backup.name)]))
                known[backup.name] = gauges
                gauges.match.set(backup.match)
                gauges.lag.set(backup.lag)
            }
        }
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    private static func name(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "netstore", metricName: name, unitName: unit, helpText: help)
    }

    private static func describe(_ sample: Sample) -> (name: String, unit: String, help: String) {
        switch sample {
        case .term: ("replication_term", "", "The term of the replicated log.")
        case .lastIndex: ("replication_last_index", "", "Index of the last entry in this server's log.")
        case .commitIndex: ("replication_commit_index", "", "Index of the last entry known durable on the write quorum.")
        case .appliedIndex: ("replication_applied_index", "", "Index of the last entry applied to this server's store.")
        case .isPrimary: ("primary", "", "1 while this server is the primary, else 0.")
        case .nodes: ("nodes", "", "Files, directories and links in the store.")
        case .users: ("users", "", "Accounts.")
        case .blocks: ("blocks", "", "Content blocks stored.")
        case .blockBytes: ("block", "bytes", "Bytes of the content blocks stored.")
        }
    }
}
