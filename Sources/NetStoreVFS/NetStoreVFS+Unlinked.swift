import NetStoreClient
import NetStoreCore

/// Open files whose last name goes away (unlink, or a rename over them) stay
/// readable and writable through their open handles until the last close, as
/// on a local disk. The server deletes a node with its last name, so such a
/// file is first moved to a hidden directory at the account's root (into the
/// mount's own subdirectory there), where it keeps its node and content; the
/// last release removes it for good. A mount that dies leaves its subdirectory
/// behind: other mounts sweep it once its lease runs out (NetStoreVFS+Sweep).
extension NetStoreVFS {
    /// The hidden directory at the account's root; never listed, never found by lookup.
    public static let unlinkedDirectoryName = NameRules.unlinkedDirectoryName

    /// True for the hidden directory's entry in the root.
    func isHidden(parent node: NodeID, name: String) -> Bool {
        node == inodes.rootNode && name == Self.unlinkedDirectoryName
    }

    /// If `name` in `parent` is the last name of a file open here, moves it
    /// to the hidden directory instead and returns its inode; otherwise nil.
    func hideIfOpen(parent: NodeID, name: String) async throws(NetStoreError) -> UInt64? {
        guard tables.withLock({ !$0.files.isEmpty }) else { return nil }
        let target: NodeAttributes
        do {
            target = try await client.lookup(parent: parent, name: name)
        } catch where error.code == .noEntry {
            return nil
        }
        let inode = inodes.inode(of: target.id)
        guard target.kind == .file, target.nlink <= 1, openFile(inode) != nil else { return nil }
        let directory = try await unlinkedDirectory()
        let hiddenName = "\(target.id)"
        try await client.rename(parent: parent, name: name, newParent: directory, newName: hiddenName, flags: [])
        let stillOpen = tables.withLock { tables -> Bool in
            guard tables.files[inode] != nil else { return false }
            tables.unlinked[inode] = hiddenName
            return true
        }
        // Closed meanwhile: nothing holds it any more.
        if !stillOpen { await removeHidden(hiddenName) }
        logger.debug("an open file lost its last name; kept until closed", metadata: ["node": "\(target.id)"])
        return inode
    }

    /// Puts hidden `inode` back under `name` (the operation that hid it failed).
    func unhide(_ inode: UInt64, parent: NodeID, name: String) async {
        guard let directory = tables.withLock({ $0.unlinkedDirectory }),
              let hiddenName = tables.withLock({ $0.unlinked[inode] }) else { return }
        do {
            try await client.rename(parent: directory, name: hiddenName, newParent: parent, newName: name, flags: [])
            _ = tables.withLock { $0.unlinked.removeValue(forKey: inode) }
        } catch {
            logger.warning("cannot restore a file after a failed rename", metadata: ["name": "\(name)", "error": "\(error)"])
        }
    }

    /// This mount's directory of parked files (`.netstore-unlinked/MOUNT-ID`),
    /// made the first time it is needed.
    func unlinkedDirectory() async throws(NetStoreError) -> NodeID {
        if let known = tables.withLock({ $0.unlinkedDirectory }) { return known }
        let hidden = try await directory(named: Self.unlinkedDirectoryName, in: inodes.rootNode)
        let node = try await directory(named: mountID, in: hidden)
        tables.withLock { $0.unlinkedDirectory = node }
        return node
    }

    /// The directory `name` in `parent`, made if missing (another mount may make it at the same time).
    private func directory(named name: String, in parent: NodeID) async throws(NetStoreError) -> NodeID {
        do {
            return try await client.lookup(parent: parent, name: name).id
        } catch where error.code == .noEntry {
            do {
                return try await client.mkdir(parent: parent, name: name, mode: 0o700, uid: 0, gid: 0).id
            } catch where error.code == .exists {
                return try await client.lookup(parent: parent, name: name).id
            }
        }
    }

    /// Deletes a hidden file whose last handle has closed.
    func removeHidden(_ hiddenName: String) async {
        guard let directory = tables.withLock({ $0.unlinkedDirectory }) else { return }
        do {
            try await client.unlink(parent: directory, name: hiddenName)
        } catch where error.code == .noEntry {
            // Already gone.
        } catch {
            logger.warning("cannot delete a closed unlinked file", metadata: ["name": "\(hiddenName)", "error": "\(error)"])
        }
    }

    /// Whether the kernel's `inode` has lost its last visible name.
    func isUnlinked(_ inode: UInt64) -> Bool {
        tables.withLock { $0.unlinked[inode] != nil }
    }
}
