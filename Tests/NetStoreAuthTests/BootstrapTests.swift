import Foundation
import Logging
import NetStoreAuth
import NetStoreCore
import Testing

@Suite struct BootstrapTests {
    let logger = Logger(label: "test")

    func mode(of file: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test func generatesAnAdminPasswordOnceInAPrivateFile() async throws {
        let f = try AccountFixture()
        let file = try #require(try await f.accounts.bootstrapAdmin(passwordFile: nil, dataDirectory: f.directory, logger: logger))
        #expect(file == f.directory.appendingPathComponent("admin-password"))
        #expect(try mode(of: file) == 0o600)
        let content = try String(contentsOf: file, encoding: .utf8)
        #expect(content.hasSuffix("\n"))
        let password = String(content.dropLast())
        #expect(password.count == 24)

        let admin = try f.accounts.user(named: "admin")
        #expect(admin.role == .admin)
        #expect(try await f.accounts.login(user: "admin", password: password, source: "s").user == admin)

        // A second start finds users and does nothing: the file is not rewritten.
        #expect(try await f.accounts.bootstrapAdmin(passwordFile: nil, dataDirectory: f.directory, logger: logger) == nil)
        #expect(try String(contentsOf: file, encoding: .utf8) == content)
        #expect(try f.accounts.listUsers().count == 1)
    }

    @Test func usesTheGivenPasswordFile() async throws {
        let f = try AccountFixture()
        let passwordFile = f.directory.appendingPathComponent("given-password")
        try Data("chosen admin password\n".utf8).write(to: passwordFile)
        #expect(try await f.accounts.bootstrapAdmin(passwordFile: passwordFile, dataDirectory: f.directory, logger: logger) == nil)
        #expect(!FileManager.default.fileExists(atPath: f.directory.appendingPathComponent("admin-password").path))
        let session = try await f.accounts.login(user: "admin", password: "chosen admin password", source: "s")
        #expect(session.user.role == .admin)
    }

    @Test func refusesAnUnacceptablePasswordFileAndCreatesNothing() async throws {
        let f = try AccountFixture()
        let passwordFile = f.directory.appendingPathComponent("given-password")
        try Data("short\n".utf8).write(to: passwordFile)
        let error = try await #require(throws: NetStoreError.self) {
            try await f.accounts.bootstrapAdmin(passwordFile: passwordFile, dataDirectory: f.directory, logger: logger)
        }
        #expect(error.code == .invalid)
        #expect(error.message.contains(passwordFile.path))
        let missing = try await #require(throws: NetStoreError.self) {
            try await f.accounts.bootstrapAdmin(passwordFile: f.directory.appendingPathComponent("absent"),
                                          dataDirectory: f.directory, logger: logger)
        }
        #expect(missing.code == .noEntry)
        #expect(try f.accounts.listUsers().isEmpty)
    }

    @Test func neverOverwritesAnExistingPasswordFile() async throws {
        let f = try AccountFixture()
        let file = f.directory.appendingPathComponent("admin-password")
        try Data("left from before\n".utf8).write(to: file)
        let error = try await #require(throws: NetStoreError.self) {
            try await f.accounts.bootstrapAdmin(passwordFile: nil, dataDirectory: f.directory, logger: logger)
        }
        #expect(error.code == .exists)
        #expect(try String(contentsOf: file, encoding: .utf8) == "left from before\n")
        #expect(try f.accounts.listUsers().isEmpty)
    }
}
