import Foundation
import NetStoreReplication
import Testing

/// The replication rules under a simulated network and disk with faults, over many
/// seeds. A failure prints its seed; `NETSTORE_SIM_SEED=<seed>` replays only that one.
@Suite("Deterministic simulation")
struct SimulationTests {
    static let replaySeed = ProcessInfo.processInfo.environment["NETSTORE_SIM_SEED"].flatMap(UInt64.init)

    /// `NETSTORE_SIM_SEEDS=<n>` runs n seeds per test instead of the default, for a longer soak.
    static let seedCount = ProcessInfo.processInfo.environment["NETSTORE_SIM_SEEDS"].flatMap(UInt64.init)

    static func seeds(_ range: ClosedRange<UInt64>) -> [UInt64] {
        if let replaySeed { return [replaySeed] }
        if let seedCount { return Array(range.lowerBound..<(range.lowerBound + seedCount)) }
        return Array(range)
    }

    static func run(_ seeds: [UInt64], configure: (inout Simulation) -> Void = { _ in }) -> [Simulation.Result] {
        seeds.map { seed in
            var simulation = Simulation(seed: seed)
            configure(&simulation)
            return simulation.run()
        }
    }

    @Test("majority write quorum: nothing acknowledged is lost, no two replicas apply different entries, all converge")
    func majorityQuorum() {
        let results = Self.run(Self.seeds(1...300))
        for result in results {
            #expect(result.failure == nil, "\(result.failure ?? "")")
        }
        // The faults must actually have happened, or the run proves little.
        let total = results.reduce(SimulatedCluster.Counts()) { $0 + $1.counts }
        if Self.replaySeed == nil {
            #expect(total.acknowledged > 10_000)
            #expect(total.crashes > 1_000)
            #expect(total.promotions > 500)
            #expect(total.refusedPromotions > 100)
            #expect(total.snapshotsInstalled > 100)
            #expect(total.truncations > 50)
        }
        print("simulation: \(results.count) seeds, \(total)")
        if Self.replaySeed != nil { print(results.map(\.counts)) }
    }

    @Test("write quorum of all three: an answer means every replica holds the entry")
    func quorumOfAll() {
        for result in Self.run(Self.seeds(1001...1040), configure: { $0.writeQuorum = 3 }) {
            #expect(result.failure == nil, "\(result.failure ?? "")")
        }
    }

    @Test("five replicas")
    func fiveReplicas() {
        for result in Self.run(Self.seeds(2001...2030), configure: { $0.replicaCount = 5 }) {
            #expect(result.failure == nil, "\(result.failure ?? "")")
        }
    }

    @Test("the same seed gives the same run")
    func replay() {
        let first = Simulation(seed: 77, log: { _ in }).run()
        let second = Simulation(seed: 77, log: { _ in }).run()
        #expect(first.counts.acknowledged == second.counts.acknowledged)
        #expect(first.counts.delivered == second.counts.delivered)
        #expect(first.counts.crashes == second.counts.crashes)
    }
}
