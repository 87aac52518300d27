import Crypto
import Foundation
import GRDB
import NetStoreCore

extension Store {
    /// The SHA-256 of a canonical dump of the replicated state (nodes, entries, id
    /// sequences, users, sessions, referenced blocks), with the applied log index it
    /// was taken at, in one snapshot. Two servers that applied the same log up to
    /// the same index have the same digest. Server-local facts are left out: the
    /// `meta` table, when blocks were stored, unreferenced blocks (uploads not yet
    /// committed, or awaiting collection), and the log itself.
    public func digest() throws -> (appliedIndex: UInt64, sha256: [UInt8]) {
        try read { db in
            var hasher = SHA256()
            let tables: [(String, String)] = [
                ("nodes", "SELECT * FROM nodes ORDER BY id"),
                ("entries", "SELECT id, parent, name, node FROM entries ORDER BY id"),
                ("sequences", "SELECT name, seq FROM sqlite_sequence ORDER BY name"),
                ("users", "SELECT * FROM users ORDER BY id"),
                ("sessions", "SELECT * FROM sessions ORDER BY token_hash"),
                ("blocks", "SELECT hash, size, refs FROM blocks WHERE refs != 0 ORDER BY hash"),
            ]
            for (name, sql) in tables {
                Self.feed(&hasher, string: name)
                let rows = try Row.fetchCursor(db, sql: sql)
                while let row = try rows.next() {
                    hasher.update(data: [0x52])  // a row starts
                    for value in row.databaseValues { Self.feed(&hasher, value) }
                }
                hasher.update(data: [0x45])  // the table ends
            }
            return (try appliedIndex(db), Array(hasher.finalize()))
        }
    }

    /// Each value as a type tag and its bytes (lengths first), so no two dumps collide.
    private static func feed(_ hasher: inout SHA256, _ value: DatabaseValue) {
        switch value.storage {
        case .null:
            hasher.update(data: [0])
        case .int64(let n):
            hasher.update(data: [1])
            withUnsafeBytes(of: n.bigEndian) { hasher.update(bufferPointer: $0) }
        case .double(let d):
            hasher.update(data: [2])
            withUnsafeBytes(of: d.bitPattern.bigEndian) { hasher.update(bufferPointer: $0) }
        case .string(let s):
            hasher.update(data: [3])
            feed(&hasher, string: s)
        case .blob(let data):
            hasher.update(data: [4])
            withUnsafeBytes(of: UInt64(data.count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: data)
        }
    }

    private static func feed(_ hasher: inout SHA256, string: String) {
        let utf8 = Array(string.utf8)
        withUnsafeBytes(of: UInt64(utf8.count).bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(data: utf8)
    }

    func appliedIndex(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT applied_index FROM replication") ?? 0)
    }
}
