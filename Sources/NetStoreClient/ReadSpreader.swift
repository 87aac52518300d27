/// Chooses which server a block read goes to. Any server may serve a block
/// (its hash proves the bytes), so reads go to the server with the fewest reads
/// in flight, ties taken in turn, and a server that failed to connect is tried
/// only after the others until its pause is over. Pure state: the caller
/// brings the time and does the I/O.
struct ReadSpreader: Sendable {
    private(set) var inFlight: [Int]
    private var pausedUntil: [ContinuousClock.Instant?]
    /// Where the next tie-break starts, so that equal servers take turns.
    private var turn = 0

    init(serverCount: Int) {
        precondition(serverCount >= 1, "reads need at least one server")
        inFlight = Array(repeating: 0, count: serverCount)
        pausedUntil = Array(repeating: nil, count: serverCount)
    }

    /// Every server's index, the one to try first first; paused servers come last
    /// (they are still tried when the others fail).
    mutating func order(now: ContinuousClock.Instant) -> [Int] {
        let count = inFlight.count
        let rotation = (0..<count).map { (turn + $0) % count }
        turn = (turn + 1) % count
        let available = rotation.filter { pausedUntil[$0].map { $0 <= now } ?? true }
        let paused = rotation.filter { !available.contains($0) }
        // Fewest in flight first; among equals, the rotation's order.
        let sorted = available.enumerated().sorted { a, b in
            let (x, y) = (inFlight[a.element], inFlight[b.element])
            return x != y ? x < y : a.offset < b.offset
        }
        return sorted.map(\.element) + paused
    }

    mutating func started(_ server: Int) { inFlight[server] += 1 }

    mutating func finished(_ server: Int) {
        precondition(inFlight[server] > 0, "a read finished that never started")
        inFlight[server] -= 1
    }

    /// After a failed connection: the others go first until `until`.
    mutating func pause(_ server: Int, until: ContinuousClock.Instant) { pausedUntil[server] = until }

    mutating func resume(_ server: Int) { pausedUntil[server] = nil }
}
