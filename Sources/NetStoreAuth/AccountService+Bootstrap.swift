import Foundation
import GRDB
import Logging
import NetStoreCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension AccountService {
    /// The user `bootstrapAdmin` creates.
    public static let bootstrapAdminName = "admin"
    /// The file in the data directory that receives a generated admin password.
    public static let generatedPasswordFileName = "admin-password"

    /// On a store with no users, creates `admin` with the password read from
    /// `passwordFile`, or a generated one written once to a 0600 file in
    /// `dataDirectory`. Returns the file holding the password when it generated one.
    ///
    /// The password file's content is the password, one trailing newline removed.
    /// The generated password's file is created exclusively and never overwritten; its
    /// path is logged, never the password.
    public func bootstrapAdmin(passwordFile: URL?, dataDirectory: URL, logger: Logger) async throws -> URL? {
        let userCount = try await store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 }
        guard userCount == 0 else { return nil }

        if let passwordFile {
            let password = try Self.readPassword(from: passwordFile)
            _ = try await addUser(name: Self.bootstrapAdminName, password: password, role: .admin)
            logger.notice("created the admin user with the password from \(passwordFile.path)")
            return nil
        }

        let file = dataDirectory.appendingPathComponent(Self.generatedPasswordFileName)
        let password = Self.generatePassword()
        // The file first: were the user created first, a failed write would leave an admin
        // nobody knows the password of.
        try Self.writeExclusively(password + "\n", to: file)
        do {
            _ = try await addUser(name: Self.bootstrapAdminName, password: password, role: .admin)
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        logger.notice("created the admin user; its generated password is in \(file.path) (readable by this user only)")
        return file
    }

    /// 18 random bytes as 24 characters of base64url.
    static func generatePassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return SessionToken.base64URL((0..<18).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func readPassword(from file: URL) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw NetStoreError(.noEntry, "cannot read the admin password file \(file.path): \(error.localizedDescription)")
        }
        guard var password = String(data: data, encoding: .utf8) else {
            throw NetStoreError(.invalid, "the admin password file \(file.path) is not UTF-8 text")
        }
        // "\r\n" is a single Character, so one removeLast drops either ending.
        if password.hasSuffix("\n") || password.hasSuffix("\r\n") { password.removeLast() }
        do {
            try NameRules.validatePassword(password)
        } catch {
            throw NetStoreError(error.code, "the admin password in \(file.path) is not acceptable: \(error.message)")
        }
        return password
    }

    /// Creates `file` with mode 0600, failing if it exists, and makes it durable.
    static func writeExclusively(_ text: String, to file: URL) throws {
        let fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST {
                throw NetStoreError(.exists, """
                    \(file.path) already exists but the store has no users: remove that file to generate \
                    a new admin password, or give the admin password in a password file
                    """)
            }
            throw NetStoreError(.io, "cannot create \(file.path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        let code = Array(text.utf8).withUnsafeBytes { Descriptor.writeAll(fd, $0) }
        if code != 0 {
            unlink(file.path)
            throw NetStoreError(.io, "cannot write \(file.path): \(String(cString: strerror(code)))")
        }
        guard fsync(fd) == 0 else {
            let code = errno
            unlink(file.path)
            throw NetStoreError(.io, "cannot sync \(file.path): \(String(cString: strerror(code)))")
        }
    }
}
