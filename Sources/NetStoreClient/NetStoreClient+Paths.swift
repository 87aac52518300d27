import NetStoreCore

/// Operations on paths inside the account's tree, built from lookups from the
/// account's root. Symlinks are not followed: their targets are paths on the
/// machine that made them, not in the store.
extension NetStoreClient {
    /// The account's root directory.
    public func rootNode() async throws(NetStoreError) -> NodeID {
        try await requireSession().user.rootNode
    }

    /// The attributes of the node a path names.
    public func resolve(_ path: RemotePath) async throws(NetStoreError) -> NodeAttributes {
        let root = try await rootNode()
        var current: NodeAttributes
        do {
            current = try await getattr(root)
        } catch {
            throw error.about(path.description)
        }
        for name in path.components {
            guard current.kind == .directory else {
                throw NetStoreError(.notDirectory, "\(path): not a directory")
            }
            do {
                current = try await lookup(parent: current.id, name: name)
            } catch {
                throw error.about(path.description)
            }
        }
        return current
    }

    public func resolve(_ path: String) async throws(NetStoreError) -> NodeAttributes {
        try await resolve(RemotePath(path))
    }

    /// The directory that holds a path's last component, and that component.
    public func resolveParent(_ path: RemotePath) async throws(NetStoreError) -> (parent: NodeAttributes, name: String) {
        guard let name = path.name else {
            throw NetStoreError(.invalid, "/: the root directory has no parent: name a path below it")
        }
        let parent = try await resolve(path.parent)
        guard parent.kind == .directory else {
            throw NetStoreError(.notDirectory, "\(path.parent): not a directory")
        }
        return (parent, name)
    }

    /// The node a path names, or nil if its last component does not exist
    /// (its parent must exist).
    public func resolveIfExists(_ path: RemotePath) async throws(NetStoreError) -> NodeAttributes? {
        do {
            return try await resolve(path)
        } catch where error.code == .noEntry {
            _ = try await resolveParent(path)
            return nil
        }
    }

    /// Creates one directory; its parent must exist.
    @discardableResult
    public func makeDirectory(_ path: RemotePath, mode: UInt32 = 0o755) async throws(NetStoreError) -> NodeAttributes {
        let (parent, name) = try await resolveParent(path)
        do {
            return try await mkdir(parent: parent.id, name: name, mode: mode)
        } catch {
            throw error.about(path.description)
        }
    }

    /// Creates a directory and every missing one above it (mkdir -p); an
    /// existing directory is fine, an existing file in the way is not.
    @discardableResult
    public func makeDirectories(_ path: RemotePath, mode: UInt32 = 0o755) async throws(NetStoreError) -> NodeAttributes {
        var current = try await getattr(try await rootNode())
        var walked: [String] = []
        for name in path.components {
            walked.append(name)
            let here = RemotePath(validated: walked)
            do {
                current = try await lookup(parent: current.id, name: name)
            } catch where error.code == .noEntry {
                do {
                    current = try await mkdir(parent: current.id, name: name, mode: mode)
                } catch where error.code == .exists {
                    // Someone else made it meanwhile: use theirs.
                    current = try await lookup(parent: current.id, name: name)
                } catch {
                    throw error.about(here.description)
                }
            } catch {
                throw error.about(here.description)
            }
            guard current.kind == .directory else {
                throw NetStoreError(.notDirectory, "\(here): exists and is not a directory")
            }
        }
        return current
    }

    /// Removes a file, symlink or fifo; a directory only if `recursive`
    /// (then with everything in it).
    public func remove(_ path: RemotePath, recursive: Bool = false) async throws(NetStoreError) {
        let (parent, name) = try await resolveParent(path)
        let node: NodeAttributes
        do {
            node = try await lookup(parent: parent.id, name: name)
        } catch {
            throw error.about(path.description)
        }
        if node.kind == .directory {
            guard recursive else {
                throw NetStoreError(.isDirectory, "\(path): is a directory (remove it with rm -r)")
            }
            try await removeContents(of: node.id, at: path)
            do {
                try await rmdir(parent: parent.id, name: name)
            } catch {
                throw error.about(path.description)
            }
        } else {
            do {
                try await unlink(parent: parent.id, name: name)
            } catch {
                throw error.about(path.description)
            }
        }
    }

    private func removeContents(of directory: NodeID, at path: RemotePath) async throws(NetStoreError) {
        // Reading the whole listing first keeps the cookies valid while entries go away.
        let entries = try await readdirAll(directory)
        for entry in entries {
            let child = RemotePath(validated: path.components + [entry.name])
            do {
                if entry.attributes.kind == .directory {
                    try await removeContents(of: entry.attributes.id, at: child)
                    try await rmdir(parent: directory, name: entry.name)
                } else {
                    try await unlink(parent: directory, name: entry.name)
                }
            } catch where error.code == .noEntry {
                continue  // already gone: the goal is reached
            } catch {
                throw error.about(child.description)
            }
        }
    }

    /// Renames or moves (mv): when `to` is an existing directory, the source
    /// moves into it under its own name; otherwise it takes the name `to`.
    public func move(_ from: RemotePath, to: RemotePath) async throws(NetStoreError) {
        let (sourceParent, sourceName) = try await resolveParent(from)
        var targetParent: NodeAttributes
        var targetName: String
        if let existing = try await resolveIfExists(to), existing.kind == .directory {
            targetParent = existing
            targetName = sourceName
        } else {
            (targetParent, targetName) = try await resolveParent(to)
        }
        do {
            try await rename(parent: sourceParent.id, name: sourceName, newParent: targetParent.id, newName: targetName)
        } catch {
            throw error.about(from.description)
        }
    }
}
