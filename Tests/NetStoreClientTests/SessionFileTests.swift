#if canImport(Glibc)
import Glibc
#endif
import NetStoreClient
import NetStoreCore
import Testing

@Suite("SessionFile")
struct SessionFileTests {
    private func temporaryDirectory() throws -> String {
        var template = Array("/tmp/netstore-client-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func mode(_ path: String) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt32(info.st_mode) & 0o7777
    }

    @Test("saves with mode 0600 in a 0700 directory, loads back, deletes")
    func roundTrip() throws {
        let base = try temporaryDirectory()
        defer { _ = system("rm -rf '\(base)'") }
        let file = SessionFile(path: "\(base)/config/netstore/session")
        #expect(try file.load() == nil)
        let session = SavedSession(
            user: "alice", token: "t0ken=with=equals",
            servers: [ServerAddress(host: "127.0.0.1", port: 7070), ServerAddress(host: "::1", port: 7071)])
        try file.save(session)
        #expect(mode(file.path) == 0o600)
        #expect(mode("\(base)/config/netstore") == 0o700)
        #expect(try file.load() == session)

        // Saving again replaces the file and keeps its mode.
        var second = session
        second.token = "another"
        try file.save(second)
        #expect(try file.load() == second)
        #expect(mode(file.path) == 0o600)

        try file.delete()
        #expect(try file.load() == nil)
        try file.delete()  // nothing to delete is fine
    }

    @Test("a damaged file is an error that says to log in again")
    func damaged() throws {
        let base = try temporaryDirectory()
        defer { _ = system("rm -rf '\(base)'") }
        let path = "\(base)/session"
        let handle = fopen(path, "w")
        fputs("user=alice\n", handle)
        fclose(handle)
        let error = #expect(throws: NetStoreError.self) { try SessionFile(path: path).load() }
        #expect(error?.message.contains("log in again") == true)
    }

    @Test("the standard location follows XDG_CONFIG_HOME, else HOME")
    func defaultPath() {
        #expect(SessionFile.defaultPath(environment: ["XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/a"])
            == "/x/cfg/netstore/session")
        #expect(SessionFile.defaultPath(environment: ["HOME": "/home/a"]) == "/home/a/.config/netstore/session")
        #expect(SessionFile.defaultPath(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/home/a/"])
            == "/home/a/.config/netstore/session")
    }
}
