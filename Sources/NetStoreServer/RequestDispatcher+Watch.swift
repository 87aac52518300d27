import NetStoreCore
import NetStoreProtocol

extension RequestDispatcher {
    /// WATCH: from now on this connection is told of the changes other
    /// connections make to its account's files. Only the primary applies
    /// changes first-hand, so a backup refuses (`notPrimary`): the client
    /// watches on the primary.
    func watch(_ session: ConnectionSession, user: UserInfo) throws -> Response {
        guard let replication else {
            throw NetStoreError(.notSupported, "this server sends no change notices")
        }
        let refusal = NetStoreError(.notPrimary, "only the primary sends change notices: send WATCH to the primary")
        guard replication.status.isPrimary else { throw refusal }
        replication.changes.watch(connection: session.id, account: user.id, outbox: session.outbox)
        // Stepping down between the check and now ended every watch but this one.
        guard replication.status.isPrimary else {
            replication.changes.unwatch(connection: session.id)
            throw refusal
        }
        return .empty
    }

    /// Ends a connection's watch: it signed in as someone else, or out.
    func unwatch(_ session: ConnectionSession) {
        replication?.changes.unwatch(connection: session.id)
    }

    /// Writes the connection's notices as CHANGES frames until it closes. A
    /// batch goes out only while the connection's token still holds (checked
    /// as any request's is): a revoked session stops hearing of changes.
    func sendNotices(of session: ConnectionSession, write: ([ChangeNotice]) async throws -> Void) async throws {
        while let notices = await session.outbox.next() {
            do {
                _ = try await currentUser(session)
            } catch {
                unwatch(session)
                continue
            }
            try await write(notices)
        }
    }
}
