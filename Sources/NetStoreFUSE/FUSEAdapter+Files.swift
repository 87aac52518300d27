import CFuse3
#if canImport(Glibc)
import Glibc
#endif
import NetStoreCore
import NetStoreVFS

extension FUSEAdapter {
    func open(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ flags: Int32) {
        raiseReadAheadIfPending()
        serve(req, "open") { [vfs] request throws(NetStoreError) in
            request.open(try await vfs.open(inode, flags: flags))
        }
    }

    func create(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: String, _ mode: mode_t, _ flags: Int32) {
        raiseReadAheadIfPending()
        serve(req, "create") { [vfs, timeout] request throws(NetStoreError) in
            let (attributes, opened) = try await vfs.create(
                parent: parent, name: name, mode: UInt32(mode), flags: flags, context: request.context)
            request.create(attributes, opened, timeout: timeout)
        }
    }

    func read(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t, _ handle: UInt64) {
        serve(req, "read") { [vfs] request throws(NetStoreError) in
            request.bytes(try await vfs.read(inode, handle: handle, offset: UInt64(max(0, offset)), count: size))
        }
    }

    func write(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ bytes: [UInt8], _ offset: off_t, _ handle: UInt64) {
        serve(req, "write") { [vfs] request throws(NetStoreError) in
            request.written(try await vfs.write(inode, handle: handle, offset: UInt64(max(0, offset)), bytes: bytes))
        }
    }

    func flush(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ handle: UInt64) {
        serve(req, "flush") { [vfs] request throws(NetStoreError) in
            try await vfs.flush(inode, handle: handle)
            request.ok()
        }
    }

    func release(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ handle: UInt64) {
        serve(req, "release") { [vfs] request throws(NetStoreError) in
            try await vfs.release(inode, handle: handle)
            request.ok()
        }
    }

    func fsync(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ handle: UInt64) {
        serve(req, "fsync") { [vfs] request throws(NetStoreError) in
            try await vfs.fsync(inode, handle: handle)
            request.ok()
        }
    }

    func fsyncdir(_ req: fuse_req_t?) {
        serve(req, "fsyncdir") { [vfs] request throws(NetStoreError) in
            await vfs.syncStaged()
            request.ok()
        }
    }

    func opendir(_ req: fuse_req_t?, _ inode: fuse_ino_t) {
        serve(req, "opendir") { [vfs] request throws(NetStoreError) in
            let handle = try await vfs.opendir(inode)
            request.open(NetStoreVFS.Opened(handle: handle, keepCache: false))
        }
    }

    /// Fills one reply of at most `size` bytes with entries after `offset`.
    /// With `plus`, every entry but "." and ".." carries attributes and the
    /// kernel takes a lookup on it, so it is counted only once it fits.
    func readdir(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t, _ handle: UInt64, plus: Bool) {
        serve(req, plus ? "readdirplus" : "readdir") { [vfs, timeout] request throws(NetStoreError) in
            // The smallest entry takes 24 bytes (32 with attributes... far more): ask for no more than fit.
            let limit = max(1, size / (plus ? 160 : 32))
            let items = try await vfs.readdir(inode, handle: handle, offset: Int64(offset), limit: limit)
            /// Writes `item` at `destination` if it fits in `room` bytes; returns the bytes it takes
            /// (with no destination, only counts them).
            func add(_ item: NetStoreVFS.DirectoryItem, at destination: UnsafeMutablePointer<CChar>?, room: Int) -> Int {
                if plus {
                    var entry = FUSEReplies.entryParameter(item.attributes, timeout: timeout)
                    if item.isDot {
                        entry = fuse_entry_param()
                        entry.attr.st_ino = UInt(item.attributes.id)
                        entry.attr.st_mode = mode_t(Glibc.S_IFDIR)
                    }
                    return fuse_add_direntry_plus(request.raw, destination, room, item.name, &entry, off_t(item.offset))
                }
                var info = FUSEReplies.stat(item.attributes)
                return fuse_add_direntry(request.raw, destination, room, item.name, &info, off_t(item.offset))
            }
            // Counted first, so that the buffer is only as large as the reply: the kernel's `size`
            // can be a megabyte, and zeroing that for each call took a third of an `rm -rf`'s CPU.
            var total = 0
            var fitting = 0
            for item in items {
                let needed = add(item, at: nil, room: 0)
                if total + needed > size { break }
                total += needed
                fitting += 1
            }
            let reply = [CChar](unsafeUninitializedCapacity: total) { raw, count in
                for item in items.prefix(fitting) {
                    count += add(item, at: raw.baseAddress! + count, room: total - count)
                    if plus, !item.isDot { vfs.remember(item.attributes.id) }
                }
            }
            reply.withUnsafeBufferPointer { raw in
                _ = fuse_reply_buf(request.raw, raw.baseAddress, raw.count)
            }
        }
    }

    func releasedir(_ req: fuse_req_t?, _ handle: UInt64) {
        vfs.releasedir(handle)
        FUSERequest(raw: req!).ok()
    }
}
