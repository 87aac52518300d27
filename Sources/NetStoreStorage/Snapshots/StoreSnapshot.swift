import Foundation
import GRDB
import NetStoreCore

/// A consistent view of the replicated state at one applied position, held open
/// (a read transaction of the WAL database) until the body is written out, so the
/// primary keeps applying meanwhile and the body is still exactly that position.
public final class StoreSnapshot: Sendable {
    /// The last log entry the state includes.
    public let appliedIndex: UInt64
    public let appliedTerm: UInt64
    private let reader: DatabaseSnapshot

    init(reader: DatabaseSnapshot) throws {
        self.reader = reader
        (appliedIndex, appliedTerm) = try reader.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT applied_index, applied_term FROM replication")!
            return (UInt64(row[0] as Int64), UInt64(row[1] as Int64))
        }
    }

    /// Writes the body (format in `SnapshotBody`) to a new file at `url`.
    public func write(to url: URL) throws -> SnapshotFileInfo {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw NetStoreError(.io, "cannot create the snapshot file \(url.path): check the data directory's space and permissions")
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var writer = SnapshotWriter(handle: handle)
        var blocks: [BlockID] = []
        do {
            try reader.read { db in
                writer.u8(SnapshotBody.version)
                writer.u64(appliedIndex)
                writer.u64(appliedTerm)
                writer.u8(UInt8(SnapshotBody.tables.count))
                for table in SnapshotBody.tables {
                    writer.string16(table.name)
                    let statement = try db.makeStatement(sql: table.sql)
                    writer.u16(UInt16(statement.columnNames.count))
                    for column in statement.columnNames { writer.string16(column) }
                    let rows = try Row.fetchCursor(statement)
                    while let row = try rows.next() {
                        writer.u8(SnapshotBody.rowMark)
                        for value in row.databaseValues { writer.value(value) }
                        if table.name == "blocks", let hash = row[0] as Data?, let id = BlockID(bytes: [UInt8](hash)) {
                            blocks.append(id)
                        }
                    }
                    writer.u8(SnapshotBody.tableEnd)
                }
            }
        } catch let error as DatabaseError {
            throw Store.storeError(error, "read the metadata database for a snapshot")
        }
        let sha256 = try writer.finish()
        return SnapshotFileInfo(appliedIndex: appliedIndex, appliedTerm: appliedTerm, size: writer.size, sha256: sha256, blocks: blocks)
    }

    /// Ends the read transaction (it also ends when the object goes).
    public func close() {
        try? reader.close()
    }
}

/// What a snapshot body holds, besides the rows: where it is, how big, its hash,
/// and the blocks its files refer to (they must be on a server before it installs it).
public struct SnapshotFileInfo: Sendable, Hashable {
    public var appliedIndex: UInt64
    public var appliedTerm: UInt64
    public var size: UInt64
    public var sha256: [UInt8]
    public var blocks: [BlockID]
}
