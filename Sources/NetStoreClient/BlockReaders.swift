import Crypto
import Logging
import NIOCore
import NetStoreCore
import NetStoreProtocol
import NetStoreTLS
import Synchronization

/// Block reads spread over every server of a client's list, one connection per
/// server (opened on first use, authenticated with the session's token).
///
/// A block's bytes are checked against its id whichever server sent them, so any
/// server will do; a server that lacks the block (a backup that has not received
/// it yet), sends a damaged copy or cannot be reached is passed over for the
/// next, and the read fails only when every server failed it.
final class BlockReaders: Sendable {
    private let servers: [ServerAddress]
    private let connectTimeout: Duration
    private let tls: ClientTLS?
    private let group: any EventLoopGroup
    private let logger: Logger
    /// How long a server that could not be reached (or refused the session) goes to the back of the queue.
    static let pause: Duration = .seconds(2)

    private enum Slot {
        case idle
        case connecting(Task<Result<Connection, NetStoreError>, Never>)
        case ready(Connection)
    }

    private struct State {
        var spreader: ReadSpreader
        var slots: [Slot]
        var closed = false
    }

    private let state: Mutex<State>

    init(servers: [ServerAddress], connectTimeout: Duration, group: any EventLoopGroup, tls: ClientTLS? = nil, logger: Logger) {
        self.tls = tls
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.group = group
        self.logger = logger
        state = Mutex(State(
            spreader: ReadSpreader(serverCount: servers.count),
            slots: Array(repeating: .idle, count: servers.count)))
    }

    /// The block's verified bytes from the first server (in the spreader's order) that has a good copy.
    func read(_ id: BlockID, token: String) async throws(NetStoreError) -> ByteBuffer {
        let order = state.withLock { $0.spreader.order(now: .now) }
        var failures: [(ServerAddress, NetStoreError)] = []
        for index in order {
            state.withLock { $0.spreader.started(index) }
            defer { state.withLock { $0.spreader.finished(index) } }
            do throws(NetStoreError) {
                let connection = try await connection(index, token: token)
                let data: ByteBuffer
                do throws(NetStoreError) {
                    guard case .block(let bytes) = try await connection.send(.getBlock(id: id)) else {
                        throw NetStoreError(.protocolError, "\(servers[index]) answered GET_BLOCK with something other than a block")
                    }
                    data = bytes
                } catch where error.code == .io {
                    drop(index, connection)
                    throw error
                }
                guard Self.hash(of: data) == id.bytes else {
                    throw NetStoreError(.corruptBlock, "its copy failed the hash check")
                }
                return data
            } catch {
                logger.info("block read failed; trying another server", metadata: [
                    "block": "\(id.hex)", "server": "\(servers[index])", "error": "\(error.message)"])
                failures.append((servers[index], error))
            }
        }
        throw Self.combined(failures, block: id)
    }

    /// Closes every connection; later reads fail.
    func close() async {
        let slots = state.withLock { state in
            state.closed = true
            defer { state.slots = Array(repeating: .idle, count: state.slots.count) }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .idle: break
            case .connecting(let task): task.cancel()
            case .ready(let connection): await connection.close()
            }
        }
    }

    /// One error for a read every server failed: a damaged copy anywhere makes it EIO;
    /// otherwise the first server's reason. The message names each server's answer.
    static func combined(_ failures: [(ServerAddress, NetStoreError)], block id: BlockID) -> NetStoreError {
        guard let first = failures.first?.1 else {
            return NetStoreError(.io, "block \(id.hex): no server to read it from")
        }
        let code = failures.contains { $0.1.code == .corruptBlock } ? ErrorCode.corruptBlock : first.code
        let reasons = failures.map { "\($0.0): \($0.1.message.isEmpty ? $0.1.code.name : $0.1.message)" }
        return NetStoreError(code, "block \(id.hex) could not be read from any server (\(reasons.joined(separator: "; ")))")
    }

    static func hash(of data: ByteBuffer) -> [UInt8] {
        data.withUnsafeReadableBytes { raw in
            var hasher = SHA256()
            hasher.update(bufferPointer: raw)
            return Array(hasher.finalize())
        }
    }

    // MARK: - Connections

    private enum Next {
        case ready(Connection)
        case wait(Task<Result<Connection, NetStoreError>, Never>)
        case closed
    }

    private func connection(_ index: Int, token: String) async throws(NetStoreError) -> Connection {
        let next: Next = state.withLock { state in
            if state.closed { return .closed }
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let task):
                return .wait(task)
            case .ready(let stale):
                Task { await stale.close() }
                fallthrough
            case .idle:
                let task = Task { await self.open(index, token: token) }
                state.slots[index] = .connecting(task)
                return .wait(task)
            }
        }
        switch next {
        case .ready(let connection): return connection
        case .closed: throw NetStoreError(.badHandle, "the client was closed")
        case .wait(let task): return try await task.value.get()
        }
    }

    private func open(_ index: Int, token: String) async -> Result<Connection, NetStoreError> {
        let server = servers[index]
        var result: Result<Connection, NetStoreError>
        do throws(NetStoreError) {
            let connection = try await Connection.connect(to: server, timeout: connectTimeout, group: group, tls: tls, logger: logger)
            do throws(NetStoreError) {
                _ = try await connection.send(.auth(token: token))
                result = .success(connection)
            } catch {
                await connection.close()
                throw error
            }
        } catch {
            result = .failure(error)
        }
        let stale: Connection? = state.withLock { state in
            switch result {
            case .success(let connection):
                if state.closed {
                    result = .failure(NetStoreError(.badHandle, "the client was closed"))
                    return connection
                }
                state.slots[index] = .ready(connection)
                state.spreader.resume(index)
            case .failure:
                // Unreachable, or the session is not there yet (a backup applies it a moment
                // after the primary): the other servers go first for a while.
                state.slots[index] = .idle
                state.spreader.pause(index, until: .now + Self.pause)
            }
            return nil
        }
        if let stale { await stale.close() }
        return result
    }

    private func drop(_ index: Int, _ connection: Connection) {
        state.withLock { state in
            if case .ready(let current) = state.slots[index], current === connection {
                state.slots[index] = .idle
                state.spreader.pause(index, until: .now + Self.pause)
            }
        }
        Task { await connection.close() }
    }
}
