import NIOCore
import NetStoreClient
import NetStoreCore
import NetStoreProtocol

/// Write-back mode (docs/mount.md): the first close of a new small file
/// journals it locally and returns; one uploader has the server make the
/// journaled files, many to a request (CREATE_INLINE_BATCH). Until then the
/// file is one this mount made and the server has not, as between create and
/// close (NetStoreVFS+MadeAtClose), and whatever could see it on the server
/// waits for it. fsync, fsyncdir and unmount wait for every file staged.
///
/// No staged file is dropped silently: one the server refuses (its name taken
/// meanwhile, its directory gone) is kept in `failed/` of the journal's
/// directory, with a line in `failed/README` and an error in the log.
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
        logger.notice("making the files a previous mount closed in write-back mode", metadata: ["files": "\(recovered.count)"])
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
            logger.warning("new files closed in write-back mode are not on the server yet; the next mount with the same cache makes them",
                           metadata: ["files": "\(left)", "journal": "\(staging.journal.directory)"])
        }
    }

    /// fsync(2) of a directory, and `sync` of the mount: returns once every
    /// file closed before it is made on the server (or set aside).
    public func syncStaged() async {
        await staging?.drain()
    }

    /// Stages `file`, a new file that fits inline, at its close (callers hold
    /// its lock). False if it could not be journaled: the caller makes it now.
    func stageLocked(_ file: OpenFile, _ creation: OpenFile.Creation) async -> Bool {
        guard let staging else { return false }
        // Bounded memory: past the limit a close waits for the uploader.
        if staging.isOverLimit { await staging.drain() }
        do {
            let (bytes, _) = try file.stage(now: Self.now())
            guard let staged = file.creation else { return false }
            try staging.stage(
                StagedFile(sequence: 0, parent: creation.parent, name: creation.name, mode: staged.attributes.mode,
                           uid: staged.attributes.uid, gid: staged.attributes.gid, modifiedNs: staged.attributes.mtimeNs,
                           bytes: bytes),
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

    /// Has the server make `batch`; each file made is this mount's from then on.
    private func upload(_ batch: [StagedUploads.Entry], retry: Bool) async -> StagedUploads.Settled {
        let files = batch.map { entry in
            InlineFile(parent: entry.file.parent, name: entry.file.name, mode: entry.file.mode,
                       uid: entry.file.uid, gid: entry.file.gid, data: ByteBuffer(bytes: entry.file.bytes))
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
        for (entry, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let made):
                settle(entry, made: made)
            case .failure(let error) where error.code == .exists && (retry || entry.inode == nil):
                // Perhaps made by an attempt whose answer was lost: the same content there is this file.
                if let made = await sameFile(entry.file) {
                    settle(entry, made: made)
                } else {
                    setAside(entry, error)
                }
            case .failure(let error):
                setAside(entry, error)
            }
        }
        return .done
    }

    /// The file the server has under `file`'s name, if it is `file`'s content.
    private func sameFile(_ file: StagedFile) async -> NodeAttributes? {
        guard let there = try? await client.lookup(parent: file.parent, name: file.name), there.kind == .file,
              there.size == UInt64(file.bytes.count),
              let content = try? await client.getContent(there.id) else { return nil }
        let id = OpenFile.blockID(of: file.bytes)
        return content.blocks == (id.isHole ? [] : [id]) ? there : nil
    }

    private func settle(_ entry: StagedUploads.Entry, made: NodeAttributes) {
        let id = OpenFile.blockID(of: entry.file.bytes)
        if !id.isHole { blocks.insertWritten(id, bytes: entry.file.bytes, fileSize: UInt64(entry.file.bytes.count)) }
        guard let file = entry.openFile, let creation = file.creation else { return }
        file.made(made)
        madeOnServer(file, creation, made)
    }

    private func setAside(_ entry: StagedUploads.Entry, _ error: NetStoreError) {
        guard let staging else { return }
        let path = staging.journal.setAside(entry.file, reason: error.message)
        logger.error("a new file closed in write-back mode could not be made on the server; its content is kept in \(path)",
                     metadata: ["name": "\(entry.file.name)", "directory": "\(entry.file.parent)", "error": "\(error)"])
        guard let file = entry.openFile, let creation = file.creation else { return }
        dropUnmade(file)
        entries.forget(parent: creation.parent, name: creation.name)
    }
}
