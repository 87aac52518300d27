import NIOCore
import NetStoreClient
import NetStoreCore
import NetStoreProtocol

/// Write-back mode (docs/mount.md): the first close of a new small file
/// journals it locally and returns; one uploader has the server make the
/// journaled files, many to a request (CREATE_INLINE_BATCH). Until then the
/// file is one this mount made and the server has not, as between create and
/// close (NetStoreVFS+MadeAtClose), and whatever could see it on the server
/// waits for it. An unlink of a file not open here, and an rmdir of a
/// directory known to be empty, are journaled the same way and return; until
/// the server has removed the name, this mount answers it as absent, and
/// whatever could meet it on the server waits. fsync, fsyncdir and unmount
/// wait for every change staged.
///
/// No staged change is dropped silently: a file the server refuses (its name
/// taken meanwhile, its directory gone) is kept in `failed/` of the journal's
/// directory, a removal it refuses is noted there, each with a line in
/// `failed/README` and an error in the log.
extension NetStoreVFS {
    /// Recovers what a previous mount staged and did not see made, starts the
    /// uploader, and waits until the recovered files are settled.
    func startStaging() async throws(NetStoreError) {
        guard let staging else { return }
        let recovered = try staging.journal.recover()
        let task = Task { [self] in
            await staging.run { batch, retry in await self.upload(batch, retry: retry) }
        }
        uploader.withLock { $0 = task }
        guard !recovered.isEmpty else { return }
        logger.notice("making the files a previous mount closed in write-back mode", metadata: ["changes": "\(recovered.count)"])
        staging.requeue(recovered)
        await staging.drain()
    }

    /// Waits up to `limit` for every staged file, then stops the uploader; what
    /// is left stays in the journal for the next mount.
    func stopStaging(within limit: Duration) async {
        guard let staging else { return }
        let drained = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await staging.drain(); return true }
            group.addTask {
                try? await Task.sleep(for: limit)
                // Releases the drain above if it is still waiting.
                staging.stop()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        staging.stop()
        await uploader.withLock { $0 }?.value
        let left = staging.count
        if !drained || left > 0 {
            logger.warning("changes made in write-back mode are not on the server yet; the next mount with the same cache sends them",
                           metadata: ["changes": "\(left)", "journal": "\(staging.journal.directory)"])
        }
    }

    /// fsync(2) of a directory, and `sync` of the mount: returns once every
    /// change staged before it reached the server (or was set aside).
    public func syncStaged() async {
        await staging?.drain()
    }

    /// Waits for every staged change if there is any (before a call that
    /// could meet one on the server: a listing, a rename, an rmdir).
    func settleStaged() async {
        guard let staging, staging.count > 0 else { return }
        await staging.drain()
    }

    /// Waits for the staged changes if there is one in `directory` (before
    /// listing it).
    func settleStaged(in directory: NodeID) async {
        guard let staging, staging.hasChanges(in: directory) else { return }
        await staging.drain()
    }

    /// Waits for a staged removal of `name` in `parent`, if there is one
    /// (before a request that would meet that name on the server).
    func settleRemoval(parent: NodeID, name: String) async {
        guard let staging, staging.isRemovalPending(parent: parent, name: name) else { return }
        await staging.drain()
    }

    /// Whether an answer about `node` asked for at `stamp` may not show an
    /// unlink made here of one of its names (another link stays): one staged
    /// and not yet on the server, waited for now, or one the server made after
    /// the answer was asked for. The caller asks again.
    func mayMissUnlink(_ node: NodeID, asOf stamp: UInt64) async -> Bool {
        await settleUnlinks(of: node)
        return attributes.isOutdated(node, asOf: stamp)
    }

    /// Waits for the staged unlinks of names of `node`, if there are any
    /// (before a change to it, whose answer tells its link count).
    func settleUnlinks(of node: NodeID) async {
        guard let staging, staging.isUnlinkPending(of: node) else { return }
        await staging.drain()
    }

    /// Whether `name` in `parent` is removed here and not yet on the server.
    func isRemovalStaged(parent: NodeID, name: String) -> Bool {
        staging?.isRemovalPending(parent: parent, name: name) ?? false
    }

    /// Journals the removal of `name` from `parent`, known to this mount as
    /// `child`: a file not open here, or (`isDirectory`) a directory known to
    /// be empty. False if there is no journal or the removal could not be
    /// journaled: the caller removes it now.
    func stageRemoval(parent: NodeID, name: String, child: NodeID, isDirectory: Bool = false) -> Bool {
        guard let staging else { return false }
        do {
            try staging.stage(.removal(StagedRemoval(sequence: 0, parent: parent, name: name, directory: isDirectory ? child : nil)),
                              unlinked: isDirectory ? nil : child)
        } catch {
            logger.warning("a removal could not be journaled; it is sent to the server now instead",
                           metadata: ["name": "\(name)", "error": "\(error)"])
            return false
        }
        entries.removed(parent: parent, name: name)
        attributes.remove(child)
        attributes.update(parent) { directory in
            let now = Self.now()
            directory.mtimeNs = now
            directory.ctimeNs = now
            if isDirectory, directory.nlink > 2 { directory.nlink -= 1 }
        }
        return true
    }

    /// Stages `file`, a new file that fits inline, at its close (callers hold
    /// its lock). False if it could not be journaled: the caller makes it now.
    func stageLocked(_ file: OpenFile, _ creation: OpenFile.Creation) async -> Bool {
        guard let staging else { return false }
        // Bounded memory: past the limit a close waits for the uploader.
        if staging.isOverLimit { await staging.drain() }
        do {
            let (bytes, id) = try file.stage(now: Self.now())
            guard let staged = file.creation else { return false }
            try staging.stage(
                .file(StagedFile(sequence: 0, parent: creation.parent, name: creation.name, mode: staged.attributes.mode,
                                 uid: staged.attributes.uid, gid: staged.attributes.gid, modifiedNs: staged.attributes.mtimeNs,
                                 bytes: bytes, contentID: id)),
                inode: file.inode, openFile: file)
        } catch {
            logger.warning("a new file could not be journaled; it is made on the server at its close instead",
                           metadata: ["name": "\(creation.name)", "error": "\(error)"])
            return false
        }
        attributes.remove(file.inode)
        return true
    }

    /// Waits for `file`, which was staged, to be made (callers hold its lock);
    /// an error if the server refused it.
    func awaitStaged(_ file: OpenFile) async throws(NetStoreError) {
        await staging?.drain()
        if let creation = file.creation, staging?.isStaged(file.inode) != true {
            throw NetStoreError(.io, "'\(creation.name)' could not be made on the server; its content is kept in \(staging?.journal.directory ?? "the journal")/failed")
        }
    }

    func isStaged(_ inode: UInt64) -> Bool {
        staging?.isStaged(inode) ?? false
    }

    // MARK: - The uploader

    /// Sends `batch`, new files or removals, to the server.
    private func upload(_ batch: [StagedUploads.Entry], retry: Bool) async -> StagedUploads.Settled {
        let files = batch.compactMap { entry in entry.change.file.map { (entry, $0) } }
        if files.isEmpty { return await remove(batch) }
        return await make(files, retry: retry)
    }

    /// Has the server make `batch`; each file made is this mount's from then on.
    private func make(_ batch: [(entry: StagedUploads.Entry, file: StagedFile)], retry: Bool) async -> StagedUploads.Settled {
        let files = batch.map { _, file in
            InlineFile(parent: file.parent, name: file.name, mode: file.mode, uid: file.uid, gid: file.gid,
                       data: ByteBuffer(bytes: file.bytes))
        }
        var outcomes: [Result<NodeAttributes, NetStoreError>]
        do {
            outcomes = try await client.createInlineBatch(files)
        } catch where error.code == .protocolError || error.code == .notSupported {
            // A server without batches: one file at a time.
            outcomes = []
            for file in files {
                do {
                    outcomes.append(.success(try await client.createInline(
                        parent: file.parent, name: file.name, mode: file.mode, uid: file.uid, gid: file.gid,
                        bytes: Array(file.data.readableBytesView))))
                } catch where error.code == .exists || error.code == .noEntry || error.code == .invalid
                    || error.code == .notPermitted || error.code == .noSpace || error.code == .nameTooLong {
                    outcomes.append(.failure(error))
                } catch {
                    logger.warning("new files could not be made on the server yet; retrying", metadata: ["error": "\(error)"])
                    return .retry
                }
            }
        } catch {
            logger.warning("new files could not be made on the server yet; retrying",
                           metadata: ["files": "\(batch.count)", "error": "\(error)"])
            return .retry
        }
        for ((entry, file), outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let made):
                settle(entry, file, made: made)
            case .failure(let error) where error.code == .exists && (retry || entry.inode == nil):
                // Perhaps made by an attempt whose answer was lost: the same content there is this file.
                if let made = await sameFile(file) {
                    settle(entry, file, made: made)
                } else {
                    setAside(entry, file, error)
                }
            case .failure(let error):
                setAside(entry, file, error)
            }
        }
        return .done
    }

    /// Has the server remove the batch's names, in order, in one request: each
    /// removed or already gone is settled, each refused is noted and its name
    /// asked of the server again; if the server could not be reached, or failed
    /// otherwise, the whole batch goes again (a name gone by then counts as removed).
    private func remove(_ batch: [StagedUploads.Entry]) async -> StagedUploads.Settled {
        let removals = batch.compactMap(\.change.removal)
        let outcomes: [Result<NodeAttributes, NetStoreError>]
        do {
            outcomes = try await client.removeBatch(removals.map {
                EntryRemoval(parent: $0.parent, name: $0.name, isDirectory: $0.directory != nil)
            })
        } catch {
            logger.warning("removals could not be sent to the server yet; retrying",
                           metadata: ["removals": "\(removals.count)", "error": "\(error)"])
            return .retry
        }
        var retry: NetStoreError?
        for (removal, outcome) in zip(removals, outcomes) {
            switch outcome {
            case .success:
                entries.removedOnServer(parent: removal.parent, name: removal.name)
            case .failure(let error) where error.code == .noEntry:
                entries.removedOnServer(parent: removal.parent, name: removal.name)
            case .failure(let error) where Self.refusals.contains(error.code):
                guard let staging else { continue }
                let path = staging.journal.setAside(removal, reason: error.message)
                logger.error("a name removed in write-back mode could not be removed on the server; it is still there (noted in \(path))",
                             metadata: ["name": "\(removal.name)", "directory": "\(removal.parent)", "error": "\(error)"])
                entries.forget(parent: removal.parent, name: removal.name)
            case .failure(let error):
                retry = error
            }
        }
        if let retry {
            logger.warning("the server could not remove some names yet; retrying",
                           metadata: ["removals": "\(removals.count)", "error": "\(retry)"])
            return .retry
        }
        // Before the batch counts as settled, so that whoever waited for it asks again.
        for node in batch.compactMap(\.unlinked) { attributes.outdate(node) }
        return .done
    }

    /// What the server answers for a removal that sending it again would not change.
    private static let refusals: Set<ErrorCode> = [.notPermitted, .accessDenied, .isDirectory, .notDirectory, .notEmpty, .invalid, .nameTooLong]

    /// The file the server has under `file`'s name, if it is `file`'s content.
    private func sameFile(_ file: StagedFile) async -> NodeAttributes? {
        guard let there = try? await client.lookup(parent: file.parent, name: file.name), there.kind == .file,
              there.size == UInt64(file.bytes.count),
              let content = try? await client.getContent(there.id) else { return nil }
        let id = OpenFile.blockID(of: file.bytes)
        return content.blocks == (id.isHole ? [] : [id]) ? there : nil
    }

    private func settle(_ entry: StagedUploads.Entry, _ staged: StagedFile, made: NodeAttributes) {
        let id = staged.contentID
        if !id.isHole { blocks.insertWritten(id, bytes: staged.bytes, fileSize: UInt64(staged.bytes.count)) }
        guard let file = entry.openFile, let creation = file.creation else { return }
        file.made(made)
        madeOnServer(file, creation, made)
    }

    private func setAside(_ entry: StagedUploads.Entry, _ staged: StagedFile, _ error: NetStoreError) {
        guard let staging else { return }
        if let path = staging.journal.setAside(staged, reason: error.message) {
            logger.error("a new file closed in write-back mode could not be made on the server; its content is kept in \(path)",
                         metadata: ["name": "\(staged.name)", "directory": "\(staged.parent)", "error": "\(error)"])
        } else {
            logger.critical("a new file closed in write-back mode could not be made on the server, and its content could not be kept in the journal's failed/ either (free space there): it is lost",
                            metadata: ["name": "\(staged.name)", "directory": "\(staged.parent)", "error": "\(error)",
                                       "journal": "\(staging.journal.directory)"])
        }
        guard let file = entry.openFile, let creation = file.creation else { return }
        dropUnmade(file)
        entries.forget(parent: creation.parent, name: creation.name)
    }
}
