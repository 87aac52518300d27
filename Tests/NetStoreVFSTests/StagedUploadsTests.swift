import Foundation
import NetStoreCore
import NetStoreTestSupport
@testable import NetStoreVFS
import Synchronization
import Testing

/// The uploader's order rules, with an upload the test holds and releases.
@Suite("Write-back mode's uploader: batches of new files two at a time, removals alone, settled in staging order")
struct StagedUploadsTests {
    /// Uploads held until the test releases them, by their first file's or removal's name.
    final class HeldUploads: Sendable {
        struct State {
            var started: [String] = []
            var running: Set<String> = []
            /// What ran at once with each batch, when it started.
            var alongside: [String: Set<String>] = [:]
            var gates: [String: CheckedContinuation<Void, Never>] = [:]
            var released: Set<String> = []
        }

        let state = Mutex(State())

        func upload(_ batch: [StagedUploads.Entry]) async -> StagedUploads.Settled {
            let name = batch[0].change.name
            await withCheckedContinuation { (gate: CheckedContinuation<Void, Never>) in
                let open = state.withLock { state -> Bool in
                    state.alongside[name] = state.running
                    state.started.append(name)
                    state.running.insert(name)
                    if state.released.contains(name) { return true }
                    state.gates[name] = gate
                    return false
                }
                if open { gate.resume() }
            }
            _ = state.withLock { $0.running.remove(name) }
            return .done
        }

        func release(_ name: String) {
            let gate = state.withLock { state in
                state.released.insert(name)
                return state.gates.removeValue(forKey: name)
            }
            gate?.resume()
        }

        var started: [String] { state.withLock { $0.started } }

        func waitUntilStarted(_ count: Int) async throws {
            guard try await waitUntil(timeout: .seconds(10), { self.started.count >= count }) else {
                Issue.record("only \(started) started")
                throw CancellationError()
            }
        }
    }

    @Test("two batches of files out at once; a removal waits for them and goes alone, the files after it wait for it; a batch settled early waits for the ones before it")
    func order() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let uploads = StagedUploads(journal: try StagingJournal(directory: directory))
        // Files of 700 KiB: one to a batch (a batch carries at most 1 MiB).
        func file(_ name: String) -> StagedChange {
            .file(StagedFile(sequence: 0, parent: 7, name: name, mode: 0o644, uid: 1, gid: 2, modifiedNs: 1, bytes: pattern(700 << 10, seed: 1)))
        }
        let f1 = try uploads.stage(file("f1"))
        let f2 = try uploads.stage(file("f2"))
        try uploads.stage(file("f3"))
        try uploads.stage(.removal(StagedRemoval(sequence: 0, parent: 7, name: "f0")))
        let f4 = try uploads.stage(file("f4"))
        let held = HeldUploads()
        let uploader = Task { await uploads.run { batch, _ in await held.upload(batch) } }

        try await held.waitUntilStarted(2)
        // Both out at once, each in a task of its own: either may call first.
        #expect(Set(held.started) == ["f1", "f2"])
        // f2 settles first: f3 may go, but nothing counts as settled before f1 is.
        held.release("f2")
        try await held.waitUntilStarted(3)
        #expect(held.started.last == "f3")
        #expect(uploads.settledThrough < f1)
        held.release("f1")
        held.release("f3")
        // The removal goes once f3 is settled, and f4 only after the removal.
        try await held.waitUntilStarted(4)
        #expect(held.started.last == "f0")
        #expect(uploads.settledThrough >= f2)
        held.release("f0")
        try await held.waitUntilStarted(5)
        held.release("f4")
        await uploads.drain()
        #expect(uploads.settledThrough == f4)
        #expect(uploads.count == 0)

        let alongside = held.state.withLock { $0.alongside }
        #expect(alongside["f2"] == ["f1"] || alongside["f1"] == ["f2"], "\(alongside)")
        #expect(alongside["f0"] == [], "a removal goes alone")
        #expect(alongside["f4"] == [], "the files after a removal wait for it")
        uploads.stop()
        await uploader.value
    }
}
