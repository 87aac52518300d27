import NetStoreReplication

/// One seeded run: a cluster under faults (drops, delays, duplicates, reordering,
/// crashes and restarts, promotions, compaction) for `faultySteps`, then a healed
/// network until every replica holds the same state. Every step is checked.
struct Simulation {
    struct Result {
        var seed: UInt64
        var failure: String?
        var counts: SimulatedCluster.Counts
    }

    var seed: UInt64
    var replicaCount = 3
    var writeQuorum: Int? = nil
    var faultySteps = 3000
    var healingSteps = 4000
    /// Where a broken rule is reported: the seed, the failure and what led to it.
    var log: (String) -> Void = { print($0) }

    func run() -> Result {
        var random = SimRandom(seed: seed)
        // Each seed has its own weather: how often messages are lost, servers crash, entries are split.
        let weather = Weather(
            dropPercent: random.below(20), duplicatePercent: random.below(8),
            crashPerMille: 3 + random.below(30), restartPerMille: 20 + random.below(60))
        let ids = (1...replicaCount).map { ReplicaID(UInt32($0)) }
        let configuration = ReplicationConfiguration(
            replicas: ids, writeQuorum: writeQuorum, maxEntriesPerMessage: 1 + random.below(4), maxBytesInFlight: 50 + random.below(200),
            heartbeatTicks: 2, retransmitTicks: 6, snapshotTimeoutTicks: 12, promotionTimeoutTicks: 8)
        var cluster = SimulatedCluster(configuration: configuration)
        var step = 0
        var phase = "faults"
        do {
            try cluster.handle(ids[0], .promote)
            var nextToken: UInt64 = 1
            while step < faultySteps {
                try faultyStep(&cluster, &random, &nextToken, weather)
                step += 1
                if step % 64 == 0 { try cluster.checkAcknowledgedDurable() }
            }
            phase = "healing"
            for id in ids { cluster.restart(id) }
            var quiet = 0
            while !cluster.converged() {
                guard step < faultySteps + healingSteps else {
                    throw SimulationFailure(message: "the replicas did not converge within \(healingSteps) steps after the faults stopped: "
                        + ids.map { "\($0) \(describe(cluster, $0))" }.joined(separator: "; "))
                }
                try healingStep(&cluster, &random, quiet: &quiet)
                step += 1
            }
            try cluster.checkAcknowledgedDurable()
            return Result(seed: seed, failure: nil, counts: cluster.counts)
        } catch {
            let message = """
                simulation seed \(seed) failed at step \(step) (\(phase)): \(error)
                replay: NETSTORE_SIM_SEED=\(seed) swift test --filter NetStoreReplicationTests
                last events:
                  \(cluster.trace.joined(separator: "\n  "))
                """
            log(message)
            return Result(seed: seed, failure: message, counts: cluster.counts)
        }
    }

    private func describe(_ cluster: SimulatedCluster, _ id: ReplicaID) -> String {
        guard let r = cluster.replica(id) else { return "down" }
        return "\(r.role) \(r.term) last \(r.lastPosition) commit \(r.commitIndex) applied \(r.appliedIndex) durable \(r.durableIndex)"
    }

    struct Weather {
        var dropPercent: Int
        var duplicatePercent: Int
        var crashPerMille: Int
        var restartPerMille: Int
    }

    private func faultyStep(_ cluster: inout SimulatedCluster, _ random: inout SimRandom, _ nextToken: inout UInt64, _ weather: Weather) throws {
        let ids = cluster.ids
        let up = ids.filter { cluster.isUp($0) }
        let perMille = random.below(1000)
        if perMille < weather.crashPerMille {
            guard let id = up.randomElement(using: &random) else { return }
            cluster.crash(id)
            return
        } else if perMille < weather.crashPerMille + weather.restartPerMille {
            guard let id = ids.filter({ !cluster.isUp($0) }).randomElement(using: &random) else { return }
            cluster.restart(id)
            return
        }
        switch random.below(100) {
        case 0..<45:
            guard !cluster.network.isEmpty else { return }
            let position = random.below(cluster.network.count)  // any message: delays and reordering
            let fate = random.below(100)
            if fate < weather.dropPercent {
                cluster.drop(at: position)
            } else {
                try cluster.deliver(at: position, keepCopy: fate < weather.dropPercent + weather.duplicatePercent)
            }
        case 45..<63:
            guard let id = up.randomElement(using: &random) else { return }
            try cluster.handle(id, .tick)
        case 63..<78:
            guard let id = up.randomElement(using: &random) else { return }
            // Sometimes only part of what is queued reaches the disk before the next event.
            try cluster.fsync(id, count: random.percent(30) ? 1 : nil)
        case 78..<93:
            // Mostly at the primary; sometimes at a backup, which must refuse.
            let target = random.percent(90) ? (cluster.primaries.first ?? up.randomElement(using: &random)) : up.randomElement(using: &random)
            guard let target else { return }
            let count = 1 + random.below(3)
            let payloads = (0..<count).map { offset -> [UInt8] in
                withUnsafeBytes(of: (seed << 20 | (nextToken + UInt64(offset))).littleEndian) { Array($0) }
            }
            try cluster.propose(at: target, payloads, firstToken: nextToken)
            nextToken += UInt64(count)
        case 93..<97:
            try promoteSomeone(&cluster, &random)
        default:
            guard let id = up.randomElement(using: &random) else { return }
            try cluster.compact(id, keeping: UInt64(random.below(6)))
        }
    }

    /// With no primary up, usually the most up-to-date replica that is up; now and
    /// then any replica, even beside a working primary (promotion must stay safe).
    private func promoteSomeone(_ cluster: inout SimulatedCluster, _ random: inout SimRandom) throws {
        let up = cluster.ids.filter { cluster.isUp($0) }
        guard !up.isEmpty else { return }
        if cluster.primaries.isEmpty, random.percent(80) {
            let best = up.max { a, b in
                let x = cluster.replica(a)!, y = cluster.replica(b)!
                return !LogPosition(index: x.durableIndex, term: x.term(at: x.durableIndex)!)
                    .isAtLeastAsUpToDate(as: LogPosition(index: y.durableIndex, term: y.term(at: y.durableIndex)!))
            }!
            try cluster.handle(best, .promote)
        } else if random.percent(cluster.primaries.isEmpty ? 100 : 15) {
            try cluster.handle(up.randomElement(using: &random)!, .promote)
        }
    }

    /// No more faults: every message arrives, every replica ticks and syncs; a
    /// cluster without a primary gets one promoted now and then.
    private func healingStep(_ cluster: inout SimulatedCluster, _ random: inout SimRandom, quiet: inout Int) throws {
        while !cluster.network.isEmpty { try cluster.deliver(at: 0) }
        for id in cluster.ids {
            try cluster.fsync(id)
            try cluster.handle(id, .tick)
        }
        if cluster.primaries.isEmpty {
            quiet += 1
            if quiet % 10 == 1 { try promoteSomeone(&cluster, &random) }
        } else {
            quiet = 0
        }
    }
}
