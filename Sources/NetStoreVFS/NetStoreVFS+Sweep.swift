import NetStoreClient
import NetStoreCore

/// Parked files (open files that lost their last name) of a mount that died
/// without closing them would stay in the hidden directory for ever. Each
/// mount parks its files in its own subdirectory and holds a lease on it:
/// it touches the subdirectory every quarter of `unlinkedLease`. Any mount
/// deletes the subdirectories (and legacy files parked directly in the hidden
/// directory) unchanged for longer than the lease. Ages are told by ctime,
/// which the server sets from its own clock, and measured against the ctime
/// of a directory just touched, so clocks of different machines never meet.
extension NetStoreVFS {
    func startHousekeeping() {
        let lease = configuration.unlinkedLease
        // Weak: a file system nobody holds any more needs no lease.
        let task = Task { [weak self] in
            var sinceSweep = Duration.zero  // `start` has just swept
            while !Task.isCancelled, self != nil {
                do {
                    try await Task.sleep(for: lease / 4)
                } catch {
                    return
                }
                sinceSweep += lease / 4
                if sinceSweep >= lease {
                    sinceSweep = .zero
                    await self?.sweepUnlinked()
                } else {
                    await self?.renewLease()
                }
            }
        }
        tables.withLock { $0.housekeeping = task }
    }

    /// Stops the lease and sweeps, and removes this mount's directory of
    /// parked files (at unmount, once they are all closed).
    func stopHousekeeping() async {
        let (task, directory) = tables.withLock { tables in
            defer { tables.housekeeping = nil; tables.unlinkedDirectory = nil }
            return (tables.housekeeping, tables.unlinkedDirectory)
        }
        task?.cancel()
        await task?.value
        guard directory != nil else { return }
        do {
            let hidden = try await client.lookup(parent: inodes.rootNode, name: Self.unlinkedDirectoryName).id
            try await client.rmdir(parent: hidden, name: mountID)
        } catch {
            logger.debug("cannot remove the directory of parked files", metadata: ["error": "\(error)"])
        }
    }

    /// Touches this mount's directory of parked files, if it has one; returns
    /// the server's time of the touch.
    @discardableResult
    func renewLease() async -> Int64? {
        guard let directory = tables.withLock({ $0.unlinkedDirectory }) else { return nil }
        do {
            return try await client.setattr(directory, SetAttributes(mtime: .now)).ctimeNs
        } catch where error.code == .noEntry || error.code == .stale {
            // Swept while this mount could not renew (a long outage): made again when next needed.
            logger.warning("the directory of parked files was swept; files unlinked while open may be gone")
            tables.withLock { if $0.unlinkedDirectory == directory { $0.unlinkedDirectory = nil } }
        } catch {
            logger.info("cannot renew the lease of parked files", metadata: ["error": "\(error)"])
        }
        return nil
    }

    /// Deletes the parked files of mounts whose lease ran out. Returns how
    /// many entries of the hidden directory it removed.
    @discardableResult
    public func sweepUnlinked() async -> Int {
        do {
            return try await sweep()
        } catch {
            logger.info("cannot sweep the files of dead mounts", metadata: ["error": "\(error)"])
            return 0
        }
    }

    private func sweep() async throws(NetStoreError) -> Int {
        let hidden: NodeID
        do {
            hidden = try await client.lookup(parent: inodes.rootNode, name: Self.unlinkedDirectoryName).id
        } catch where error.code == .noEntry {
            return 0
        }
        // The server's clock now: the time of touching our own directory, or the hidden one.
        let now: Int64
        if let renewed = await renewLease() {
            now = renewed
        } else {
            now = try await client.setattr(hidden, SetAttributes(mtime: .now)).ctimeNs
        }
        let limit = Self.nanoseconds(configuration.unlinkedLease)
        var removed = 0
        for entry in try await client.readdirAll(hidden) where entry.name != mountID {
            guard now - entry.attributes.ctimeNs > limit else { continue }
            do {
                if entry.attributes.kind == .directory {
                    for parked in try await client.readdirAll(entry.attributes.id) {
                        try await remove(parked.name, kind: parked.attributes.kind, in: entry.attributes.id)
                    }
                }
                try await remove(entry.name, kind: entry.attributes.kind, in: hidden)
                removed += 1
                logger.notice("swept the parked files of a mount that is gone", metadata: ["entry": "\(entry.name)"])
            } catch where error.code == .notEmpty {
                // Its mount came back and parked a file meanwhile: it lives.
            }
        }
        return removed
    }

    /// Removes one entry; one already gone (another mount sweeping too) is fine.
    private func remove(_ name: String, kind: NodeKind, in directory: NodeID) async throws(NetStoreError) {
        do {
            if kind == .directory {
                try await client.rmdir(parent: directory, name: name)
            } else {
                try await client.unlink(parent: directory, name: name)
            }
        } catch where error.code == .noEntry {
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
