import Foundation
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Synchronization
import Testing

@testable import NetStoreClient

/// Attributes that carry a number, so a reply shows which request it answers.
func attributes(id: NodeID, kind: NodeKind = .file, size: UInt64 = 0, version: UInt64 = 1) -> NodeAttributes {
    NodeAttributes(
        id: id, kind: kind, mode: kind == .directory ? 0o755 : 0o644, uid: 0, gid: 0, nlink: 1,
        size: size, atimeNs: 0, mtimeNs: 0, ctimeNs: 0, version: version)
}

struct DeadlineExceeded: Error {}

/// Runs `body`, failing if it has not finished within `seconds`: a test that
/// would hang fails instead.
func withDeadline<T: Sendable>(
    seconds: Int = 10, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let once = Once()
    return try await withCheckedThrowingContinuation { continuation in
        let work = Task {
            let result = await Result { try await body() }
            if once.claim() { continuation.resume(with: result) }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if once.claim() {
                work.cancel()
                continuation.resume(throwing: DeadlineExceeded())
            }
        }
    }
}

/// True for the first caller only.
final class Once: Sendable {
    private let claimed = Atomic<Bool>(false)
    func claim() -> Bool { !claimed.exchange(true, ordering: .acquiringAndReleasing) }
}

/// A list that concurrent tasks append to.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

@Suite("Connection")
struct ConnectionTests {
    @Test("100 concurrent requests each get their own reply, whatever the order replies come in")
    func pipelining() async throws {
        let server = try await TestServer.start { _, request in
            guard case .getattr(let node) = request else { return .reply(.success(.empty)) }
            // Later requests are answered sooner, so replies overtake each other.
            return .reply(.success(.attributes(attributes(id: node))), after: .milliseconds(Int64(200 - node)))
        }
        let connection = try await Connection.connect(to: ServerAddress(host: "127.0.0.1", port: server.port))
        let completionOrder = Recorder<NodeID>()
        let answers = try await withDeadline {
            try await withThrowingTaskGroup(of: (NodeID, NodeID).self) { group in
                for node in NodeID(1)...100 {
                    group.addTask {
                        let response = try await connection.send(.getattr(node: node))
                        guard case .attributes(let attributes) = response else { throw NetStoreError(.protocolError) }
                        completionOrder.append(node)
                        return (node, attributes.id)
                    }
                }
                var answers: [(NodeID, NodeID)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
        }
        #expect(answers.count == 100)
        for (asked, answered) in answers { #expect(asked == answered) }
        let order = completionOrder.all
        #expect(order != order.sorted(), "replies were expected out of order")
        #expect(connection.pendingCount == 0)
        await connection.close()
        await server.stop()
    }

    @Test("100 concurrent pings with delayed replies all complete")
    func pings() async throws {
        let counter = Atomic<Int>(0)
        let server = try await TestServer.start { _, _ in
            let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
            return .reply(.success(.empty), after: .milliseconds(Int64((n * 37) % 50)))
        }
        let connection = try await Connection.connect(to: ServerAddress(host: "127.0.0.1", port: server.port))
        let replies = try await withDeadline {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 {
                    group.addTask { (try? await connection.send(.ping)) == .empty }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        #expect(replies == 100)
        await connection.close()
        await server.stop()
    }

    @Test("an error reply fails only its own request, as the NetStoreError it carries")
    func errorReply() async throws {
        let server = try await TestServer.start { _, request in
            guard case .getattr(let node) = request else { return .reply(.success(.empty)) }
            if node == 13 { return .reply(.failure(NetStoreError(.noEntry, "node 13 is gone"))) }
            return .reply(.success(.attributes(attributes(id: node))))
        }
        let connection = try await Connection.connect(to: ServerAddress(host: "127.0.0.1", port: server.port))
        let error = await #expect(throws: NetStoreError.self) { try await connection.send(.getattr(node: 13)) }
        #expect(error == NetStoreError(.noEntry, "node 13 is gone"))
        #expect(try await connection.send(.getattr(node: 14)) == .attributes(attributes(id: 14)))
        #expect(connection.isActive)
        await connection.close()
        await server.stop()
    }

    @Test("when the server closes the connection, every pending request fails with .io instead of hanging")
    func serverCloses() async throws {
        let received = Atomic<Int>(0)
        let server = try await TestServer.start { _, _ in
            // Hold every request; the tenth closes the connection under all of them.
            received.wrappingAdd(1, ordering: .relaxed).newValue == 10 ? .close : .ignore
        }
        let address = ServerAddress(host: "127.0.0.1", port: server.port)
        let connection = try await Connection.connect(to: address)
        let failures = try await withDeadline {
            await withTaskGroup(of: NetStoreError?.self) { group in
                for node in NodeID(1)...10 {
                    group.addTask {
                        do throws(NetStoreError) {
                            _ = try await connection.send(.getattr(node: node))
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                var failures: [NetStoreError] = []
                for await case let failure? in group { failures.append(failure) }
                return failures
            }
        }
        #expect(failures.count == 10)
        for failure in failures {
            #expect(failure.code == .io)
            #expect(failure.message.hasPrefix("lost the connection to \(address)"))
        }
        #expect(!connection.isActive)
        // Later requests fail at once rather than waiting for a reply that cannot come.
        let later = await #expect(throws: NetStoreError.self) { try await connection.send(.ping) }
        #expect(later?.code == .io)
        await server.stop()
    }

    @Test("close() fails the requests still waiting")
    func clientCloses() async throws {
        let server = try await TestServer.start { _, _ in .ignore }
        let connection = try await Connection.connect(to: ServerAddress(host: "127.0.0.1", port: server.port))
        let waiting = Task { () -> NetStoreError? in
            do throws(NetStoreError) { _ = try await connection.send(.ping); return nil } catch { return error }
        }
        // The request must be registered before the close for the test to mean anything.
        try await withDeadline {
            while connection.pendingCount == 0 { await Task.yield() }
        }
        await connection.close()
        let failure = try await withDeadline { await waiting.value }
        #expect(failure?.code == .io)
        await server.stop()
    }

    @Test("a request over a field limit fails alone and leaves the connection up")
    func limitsCheckedBeforeSending() async throws {
        let server = try await TestServer.start { _, _ in .reply(.success(.empty)) }
        let connection = try await Connection.connect(to: ServerAddress(host: "127.0.0.1", port: server.port))
        let longName = String(repeating: "x", count: Limits.maxNameLength + 1)
        let error = await #expect(throws: NetStoreError.self) {
            try await connection.send(.lookup(parent: 1, name: longName))
        }
        #expect(error?.code == .nameTooLong)
        #expect(try await connection.send(.ping) == .empty)
        await connection.close()
        await server.stop()
    }

    @Test("connecting to a port nobody listens on fails with a message naming the server")
    func unreachable() async throws {
        // Bind and close at once to find a port that is very likely free.
        let server = try await TestServer.start { _, _ in .ignore }
        let port = server.port
        await server.stop()
        let address = ServerAddress(host: "127.0.0.1", port: port)
        let error = await #expect(throws: NetStoreError.self) { try await Connection.connect(to: address) }
        #expect(error?.code == .io)
        #expect(error?.message.contains("cannot connect to 127.0.0.1:\(port)") == true)
    }

    @Test("a notice returns once it is written: a peer that reads nothing holds the sender back, and its loss fails it")
    func noticeWaitsForTheSocket() async throws {
        let listener = try SilentListener()
        let connection = try await Connection.connect(to: ServerAddress(host: "127.0.0.1", port: listener.port))
        let block = ByteBuffer(repeating: 7, count: 1 << 20)
        let total = 64  // MiB: far more than loopback's socket buffers hold
        let written = Atomic<Int>(0)
        let sender = Task {
            for _ in 0..<total {
                try await connection.notify(.putBlock(id: BlockID(bytes: [UInt8](repeating: 1, count: 32))!, data: block))
                written.add(1, ordering: .relaxed)
            }
        }
        // Once the socket's buffers are full, the count stops moving (checked over half a second).
        var last = -1
        var steady = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while steady < 10, clock.now < deadline {
            let now = written.load(ordering: .relaxed)
            steady = now == last ? steady + 1 : 0
            last = now
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(steady >= 10 && last < total, "\(last) of \(total) notices written to a peer that reads nothing")

        listener.close()
        let error = await #expect(throws: NetStoreError.self) { try await sender.value }
        #expect(error?.code == .io, "\(String(describing: error))")
        await connection.close()
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never reads from them.
final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32
    private let accepted = Mutex<[Int32]>([])
    private let closed = Atomic<Bool>(false)

    init() throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(listening, generic, length) == 0 && listen(listening, 4) == 0
                    && getsockname(listening, generic, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(listening)
            throw NetStoreError(.io, "cannot listen on 127.0.0.1: errno \(errno)")
        }
        descriptor = listening
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptUntilClosed() }
    }

    /// Accepts (so each connection is whole) but never reads.
    private func acceptUntilClosed() {
        while true {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { return }
            accepted.withLock { $0.append(client) }
        }
    }

    /// Closes the listener and every accepted connection (the peer's loss).
    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for client in accepted.withLock({ $0 }) { Glibc.close(client) }
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }

    deinit { close() }
}
