/// What writing and reading past the page cache (O_DIRECT) takes on Linux.
public enum DirectIO {
    /// O_DIRECT, which Glibc's Swift module leaves out (it needs _GNU_SOURCE);
    /// 0 where unknown, and then nothing is written that way.
    public static let flag: Int32 = {
        #if os(Linux) && (arch(x86_64) || arch(i386))
        return 0o40000
        #elseif os(Linux) && (arch(arm64) || arch(arm))
        return 0o200000
        #else
        return 0
        #endif
    }()

    /// The alignment it asks of buffers, offsets and lengths: a page, which
    /// covers every logical block size a disk reports.
    public static let alignment = 4096
}
