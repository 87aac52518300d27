import NetStoreCore

extension NodeAttributes {
    /// The mode as `ls -l` shows it: "drwxr-xr-x", "-rw-r--r--", "lrwxrwxrwx", "prw-r--r--", "srwx------", "crw-rw-rw-", "brw-rw----",
    /// with s/S and t/T for the set-id and sticky bits.
    public var modeString: String {
        let type: Character = switch kind {
        case .file: "-"
        case .directory: "d"
        case .symlink: "l"
        case .fifo: "p"
        case .socket: "s"
        case .characterDevice: "c"
        case .blockDevice: "b"
        }
        var text = String(type)
        let special: [(set: UInt32, exec: Character, noExec: Character)] = [
            (0o4000, "s", "S"), (0o2000, "s", "S"), (0o1000, "t", "T"),
        ]
        for triplet in 0..<3 {
            let shift = UInt32(6 - 3 * triplet)
            let bits = (mode >> shift) & 0o7
            text.append(bits & 0o4 != 0 ? "r" : "-")
            text.append(bits & 0o2 != 0 ? "w" : "-")
            let executable = bits & 0o1 != 0
            if mode & special[triplet].set != 0 {
                text.append(executable ? special[triplet].exec : special[triplet].noExec)
            } else {
                text.append(executable ? "x" : "-")
            }
        }
        return text
    }
}

extension NodeKind {
    /// As stat(1) names file types.
    public var displayName: String {
        switch self {
        case .file: "regular file"
        case .directory: "directory"
        case .symlink: "symbolic link"
        case .fifo: "fifo"
        case .socket: "socket"
        case .characterDevice: "character special file"
        case .blockDevice: "block special file"
        }
    }
}
