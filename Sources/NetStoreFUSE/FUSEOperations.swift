import CFuse3
#if canImport(Glibc)
import Glibc
#endif

/// The libfuse low-level operation table: each entry finds the adapter from
/// the request's user data, copies what the kernel lent it (names, the write
/// buffer, the file info) and hands over. The closures capture nothing, as C
/// function pointers must.
enum FUSEOperations {
    /// Negotiated at INIT: the largest write this kernel accepts (see platform notes).
    static let maxWrite: UInt32 = 1 << 20

    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { _, conn in
            guard let conn else { return }
            conn.pointee.max_write = FUSEOperations.maxWrite
            conn.pointee.time_gran = 1
            // Large writes arrive in one request; readdirplus fills `ls -l` without per-entry lookups.
            let wanted: UInt32 = (1 << 13) | (1 << 14) | (1 << 18)  // READDIRPLUS, READDIRPLUS_AUTO, PARALLEL_DIROPS
            conn.pointee.want |= wanted & conn.pointee.capable
        }
        ops.lookup = { req, parent, name in
            FUSEAdapter.from(req).lookup(req, parent, FUSEAdapter.string(name))
        }
        ops.forget = { req, inode, count in
            FUSEAdapter.from(req).vfs.forget(inode, count: count)
            fuse_reply_none(req)
        }
        ops.forget_multi = { req, count, forgets in
            let adapter = FUSEAdapter.from(req)
            if let forgets {
                for i in 0..<count { adapter.vfs.forget(forgets[i].ino, count: forgets[i].nlookup) }
            }
            fuse_reply_none(req)
        }
        ops.getattr = { req, inode, _ in
            FUSEAdapter.from(req).getattr(req, inode)
        }
        ops.setattr = { req, inode, attr, toSet, _ in
            FUSEAdapter.from(req).setattr(req, inode, attr!.pointee, toSet)
        }
        ops.readlink = { req, inode in
            FUSEAdapter.from(req).readlink(req, inode)
        }
        ops.mknod = { req, parent, name, mode, rdev in
            FUSEAdapter.from(req).mknod(req, parent, FUSEAdapter.string(name), mode, rdev)
        }
        ops.mkdir = { req, parent, name, mode in
            FUSEAdapter.from(req).mkdir(req, parent, FUSEAdapter.string(name), mode)
        }
        ops.unlink = { req, parent, name in
            FUSEAdapter.from(req).unlink(req, parent, FUSEAdapter.string(name))
        }
        ops.rmdir = { req, parent, name in
            FUSEAdapter.from(req).rmdir(req, parent, FUSEAdapter.string(name))
        }
        ops.symlink = { req, target, parent, name in
            FUSEAdapter.from(req).symlink(req, FUSEAdapter.string(target), parent, FUSEAdapter.string(name))
        }
        ops.rename = { req, parent, name, newParent, newName, flags in
            FUSEAdapter.from(req).rename(
                req, parent, FUSEAdapter.string(name), newParent, FUSEAdapter.string(newName), UInt32(flags))
        }
        ops.link = { req, inode, newParent, newName in
            FUSEAdapter.from(req).link(req, inode, newParent, FUSEAdapter.string(newName))
        }
        ops.open = { req, inode, info in
            FUSEAdapter.from(req).open(req, inode, info!.pointee.flags)
        }
        ops.create = { req, parent, name, mode, info in
            FUSEAdapter.from(req).create(req, parent, FUSEAdapter.string(name), mode, info!.pointee.flags)
        }
        ops.read = { req, inode, size, offset, info in
            FUSEAdapter.from(req).read(req, inode, size, offset, info!.pointee.fh)
        }
        ops.write = { req, inode, buffer, size, offset, info in
            // The buffer belongs to the loop thread and is reused once this returns.
            let bytes = buffer.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            FUSEAdapter.from(req).write(req, inode, bytes, offset, info!.pointee.fh)
        }
        ops.flush = { req, inode, info in
            FUSEAdapter.from(req).flush(req, inode, info!.pointee.fh)
        }
        ops.release = { req, inode, info in
            FUSEAdapter.from(req).release(req, inode, info!.pointee.fh)
        }
        ops.fsync = { req, inode, _, info in
            FUSEAdapter.from(req).fsync(req, inode, info!.pointee.fh)
        }
        ops.opendir = { req, inode, _ in
            FUSEAdapter.from(req).opendir(req, inode)
        }
        ops.readdir = { req, inode, size, offset, info in
            FUSEAdapter.from(req).readdir(req, inode, size, offset, info!.pointee.fh, plus: false)
        }
        ops.readdirplus = { req, inode, size, offset, info in
            FUSEAdapter.from(req).readdir(req, inode, size, offset, info!.pointee.fh, plus: true)
        }
        ops.releasedir = { req, _, info in
            FUSEAdapter.from(req).releasedir(req, info!.pointee.fh)
        }
        // Directory changes are committed by the server as they happen; in
        // write-back mode this waits for the new files closed before it.
        ops.fsyncdir = { req, _, _, _ in
            FUSEAdapter.from(req).fsyncdir(req)
        }
        ops.statfs = { req, _ in
            FUSEAdapter.from(req).statfs(req)
        }
        ops.access = { req, inode, _ in
            FUSEAdapter.from(req).access(req, inode)
        }
        // Extended attributes are not stored. Answering ENOSYS makes the kernel
        // stop asking and return EOPNOTSUPP (ENOTSUP) to programs from then on.
        ops.setxattr = { req, _, _, _, _, _ in fuse_reply_err(req, ENOSYS) }
        ops.getxattr = { req, _, _, _ in fuse_reply_err(req, ENOSYS) }
        ops.listxattr = { req, _, _ in fuse_reply_err(req, ENOSYS) }
        ops.removexattr = { req, _, _ in fuse_reply_err(req, ENOSYS) }
        // No getlk/setlk/flock: the kernel then keeps POSIX and flock locks
        // itself, which holds them across the processes using this mount.
        return ops
    }
}
