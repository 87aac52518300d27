import GRDB

/// The metadata database's migrations. A released migration is never edited:
/// a change of schema is a new migration appended here.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Key/value facts about this store (its id, software version that created it, ...).
            try db.execute(sql: """
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE users (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    role INTEGER NOT NULL,
                    password_hash TEXT NOT NULL,
                    root_node INTEGER NOT NULL,
                    created_ns INTEGER NOT NULL,
                    password_changed_ns INTEGER NOT NULL
                );

                -- Tokens are stored only as their SHA-256.
                CREATE TABLE sessions (
                    token_hash BLOB PRIMARY KEY NOT NULL,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    created_ns INTEGER NOT NULL,
                    expires_ns INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX sessions_user ON sessions(user_id);

                -- One row per inode. `blocks` is the current version's block list:
                -- 32-byte ids concatenated (an all-zero id is a hole). Directories
                -- have nlink 2 + their subdirectories; a node whose nlink reaches 0
                -- is deleted (no open-unlinked files: the mount holds none open).
                CREATE TABLE nodes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    account INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    mode INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    nlink INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    atime_ns INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    ctime_ns INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    target TEXT,
                    blocks BLOB NOT NULL DEFAULT x''
                );
                CREATE INDEX nodes_account ON nodes(account);

                -- Directory entries, apart from nodes so that hard links work.
                -- `id` is the READDIR cookie: stable while the entry exists.
                CREATE TABLE entries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    parent INTEGER NOT NULL REFERENCES nodes(id),
                    name TEXT NOT NULL,
                    node INTEGER NOT NULL REFERENCES nodes(id),
                    UNIQUE (parent, name)
                );
                CREATE INDEX entries_parent_id ON entries(parent, id);
                CREATE INDEX entries_node ON entries(node);

                -- Every block on disk. `refs` counts references from block lists
                -- (a block used twice in one list counts twice; holes are not here);
                -- a block with none is collected once older than a grace period
                -- (an upload in progress may be about to commit it).
                CREATE TABLE blocks (
                    hash BLOB PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL,
                    refs INTEGER NOT NULL DEFAULT 0,
                    stored_ns INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX blocks_unreferenced ON blocks(stored_ns) WHERE refs = 0;

                INSERT INTO meta (key, value) VALUES ('format', '1');
                """)
        }
        migrator.registerMigration("v2-replication") { db in
            // The replicated log (docs/replication.md): entries not yet folded into the
            // state, plus what must survive a crash besides them. `applied_*` moves in
            // the same transaction as the changes of the entry it names.
            try db.execute(sql: """
                CREATE TABLE replication (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    term INTEGER NOT NULL,
                    voted_for INTEGER,
                    log_start_index INTEGER NOT NULL,
                    log_start_term INTEGER NOT NULL,
                    applied_index INTEGER NOT NULL,
                    applied_term INTEGER NOT NULL
                );
                INSERT INTO replication VALUES (1, 0, NULL, 0, 0, 0, 0);

                CREATE TABLE log (
                    idx INTEGER PRIMARY KEY,
                    term INTEGER NOT NULL,
                    payload BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3-rdev") { db in
            // A device node's device number (Linux's makedev encoding, stored as its
            // signed 64-bit pattern); 0 for every other kind, and for the rows before.
            try db.execute(sql: "ALTER TABLE nodes ADD COLUMN rdev INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v4-small-blocks") { db in
            // The bytes of blocks up to Store.smallBlockLimit, kept here instead of as
            // files; each has its row in `blocks` too, and goes with it when collected.
            try db.execute(sql: """
                CREATE TABLE small_blocks (
                    hash BLOB PRIMARY KEY NOT NULL,
                    bytes BLOB NOT NULL
                );
                """)
        }
        return migrator
    }
}
