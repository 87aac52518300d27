/// What a directory entry name and an account name may be.
///
/// A name never contains `/` or NUL and is never `.` or `..`, so no request can
/// name anything outside the directory it is addressed to.
public enum NameRules {
    /// At an account's root, where a mount keeps files that were unlinked while
    /// still open until their last close. Listings for people leave it out.
    public static let unlinkedDirectoryName = ".netstore-unlinked"

    public static func validateEntryName(_ name: String) throws(NetStoreError) {
        if name.isEmpty { throw NetStoreError(.invalid, "a name must not be empty") }
        if name == "." || name == ".." { throw NetStoreError(.invalid, "'\(name)' is not a valid name") }
        if name.utf8.count > Limits.maxNameLength {
            throw NetStoreError(.nameTooLong, "a name is at most \(Limits.maxNameLength) bytes")
        }
        for byte in name.utf8 where byte == 0x2F || byte == 0 {
            throw NetStoreError(.invalid, "a name must not contain '/' or NUL")
        }
    }

    /// Account names: 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter.
    public static func validateUserName(_ name: String) throws(NetStoreError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= Limits.maxUserNameLength else {
            throw NetStoreError(.invalid, "a user name is 1 to \(Limits.maxUserNameLength) characters")
        }
        guard (0x61...0x7A).contains(bytes[0]) else {
            throw NetStoreError(.invalid, "a user name starts with a lowercase letter")
        }
        for byte in bytes {
            let ok = (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
            if !ok { throw NetStoreError(.invalid, "a user name may use only a-z, 0-9, '.', '_' and '-'") }
        }
    }

    public static func validatePassword(_ password: String) throws(NetStoreError) {
        let count = password.utf8.count
        if count < Limits.minPasswordLength {
            throw NetStoreError(.invalid, "a password has at least \(Limits.minPasswordLength) characters")
        }
        if count > Limits.maxPasswordLength {
            throw NetStoreError(.invalid, "a password has at most \(Limits.maxPasswordLength) bytes")
        }
    }

    public static func validateSymlinkTarget(_ target: String) throws(NetStoreError) {
        if target.isEmpty { throw NetStoreError(.noEntry, "a symlink target must not be empty") }
        if target.utf8.count > Limits.maxSymlinkTarget {
            throw NetStoreError(.nameTooLong, "a symlink target is at most \(Limits.maxSymlinkTarget) bytes")
        }
        if target.utf8.contains(0) { throw NetStoreError(.invalid, "a symlink target must not contain NUL") }
    }
}
