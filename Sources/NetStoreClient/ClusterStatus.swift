import Logging
import NIOCore
import NIOPosix
import NetStoreCore
import NetStoreProtocol
import NetStoreTLS

/// Asks each server of a list for its STATUS, one connection each, so that
/// one unreachable server does not hide the others.
public enum ClusterStatus {
    public struct Probe: Sendable {
        public var server: ServerAddress
        public var result: Result<ServerStatus, NetStoreError>
    }

    /// Probes every server at once. When a server wants a session first, the
    /// token (if given) authenticates the connection.
    public static func probe(
        _ servers: [ServerAddress], token: String?, timeout: Duration = .seconds(3),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: ClientTLS? = nil,
        logger: Logger = Logger(label: "netstore.client")
    ) async -> [Probe] {
        await withTaskGroup(of: (Int, Probe).self) { tasks in
            for (index, server) in servers.enumerated() {
                tasks.addTask {
                    let result: Result<ServerStatus, NetStoreError>
                    do throws(NetStoreError) {
                        result = .success(try await status(of: server, token: token, timeout: timeout, group: group, tls: tls, logger: logger))
                    } catch {
                        result = .failure(error)
                    }
                    return (index, Probe(server: server, result: result))
                }
            }
            var probes: [(Int, Probe)] = []
            for await probe in tasks { probes.append(probe) }
            return probes.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private static func status(
        of server: ServerAddress, token: String?, timeout: Duration, group: any EventLoopGroup, tls: ClientTLS?, logger: Logger
    ) async throws(NetStoreError) -> ServerStatus {
        let connection = try await Connection.connect(to: server, timeout: timeout, group: group, tls: tls, logger: logger)
        var response: Response
        do throws(NetStoreError) {
            response = try await connection.send(.status)
        } catch where error.code == .notAuthenticated && token != nil {
            do throws(NetStoreError) {
                _ = try await connection.send(.auth(token: token!))
                response = try await connection.send(.status)
            } catch {
                await connection.close()
                throw error
            }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        guard case .status(let status) = response else {
            throw NetStoreError(.protocolError, "\(server) answered STATUS with an unexpected \(response.kindName) reply")
        }
        return status
    }
}
