import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NetStoreClient
import NetStoreCore
import NetStoreFUSE
import NetStoreVFS
#if canImport(Glibc)
import Glibc
#endif

@main
struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netstore-mount",
        abstract: "Mount your NetStore files as a directory.",
        discussion: """
            Logs in with the token `netstore login` saved, else with --password-file, else asks
            for the password. Returns once the mount is ready and serves in the background
            (-f: in the foreground). Unmount with `fusermount3 -u MOUNTPOINT`, SIGINT or SIGTERM:
            dirty files are committed first. NetStore's own -o options: cache=DIR (block cache and
            write-back files), cache_size=MiB (block cache limit), primary_timeout=SECONDS (how long a
            change waits for a primary before failing with EIO; default 30), unlinked_lease=SECONDS
            (after how long without renewal the parked open-but-unlinked files of a mount that died
            are swept by other mounts; default 600), attr_timeout=SECONDS (how long the kernel and
            the mount keep attributes and names while the server tells the mount of changes made
            elsewhere; default 30; 1 s whenever it does not), writeback (the close of a new small file
            returns once it is journaled in the cache; the servers make such files in batches behind
            it, and fsync, `sync MOUNTPOINT` and unmount wait for them); others go to FUSE (allow_other,
            ro, ...).
            """)

    @Argument(help: "An existing directory to mount on.")
    var mountpoint: String

    @Option(help: "Servers, HOST:PORT[,HOST:PORT...] (default: NETSTORE_SERVERS, the saved session's, ~/.config/netstore/config.toml's, 127.0.0.1:7070).")
    var server: String?

    @Flag(name: .customShort("f"), help: "Stay in the foreground.")
    var foreground = false

    @Option(name: .customShort("o"), help: "Mount options, comma-separated.")
    var options: [String] = []

    @Option(name: .customLong("tls-ca"), help: "The cluster's CA certificate: connect with TLS and verify the servers against it (default: NETSTORE_TLS_CA, the saved session's, the configuration file's tls-ca; none: plain TCP).")
    var tlsCA: String?

    @Option(help: "Seconds a change waits for a primary (while none is reachable, or only backups answer) before it fails with EIO; the same as -o primary_timeout (default: 30).")
    var primaryTimeout: Int?

    @Option(help: "File whose first line is the password.")
    var passwordFile: String?

    @Option(help: "User to log in as (default: the saved session's).")
    var user: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "warning"

    @Option(help: "Where a background mount writes its log (default: nowhere).")
    var logFile: String?

    @Flag(help: .private)
    var tokenStdin = false

    @Option(help: .private)
    var readyFd: Int32?

    func run() async throws {
        // Tasks resume on the event loop whose reply they waited for, not on a
        // pool thread the reply must be handed to.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "netstore-mount")
        do {
            try await mount(logger: logger)
        } catch {
            if let readyFd { Daemon.report("netstore-mount: \(error.message)", descriptor: readyFd) }
            Terminal.printError("netstore-mount: \(error.message)")
            throw ExitCode.failure
        }
    }

    private func mount(logger: Logger) async throws(NetStoreError) {
        var info = stat()
        guard stat(mountpoint, &info) == 0 else {
            throw NetStoreError(.noEntry, "\(mountpoint): \(String(cString: strerror(errno)).lowercased())")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw NetStoreError(.notDirectory, "\(mountpoint): not a directory") }
        var settings = try MountSettings(options: options)
        if let primaryTimeout {
            guard primaryTimeout >= 0 else { throw NetStoreError(.invalid, "--primary-timeout takes a number of seconds, e.g. 30") }
            settings.primaryTimeout = .seconds(primaryTimeout)
        }
        let client = try await login(primaryWait: settings.primaryTimeout, logger: logger)

        if !foreground {
            guard let token = client.session?.token, !token.isEmpty else {
                throw NetStoreError(.notAuthenticated, "the server returned no session token")
            }
            await client.close()
            var arguments = [mountpoint, "-f", "--token-stdin", "--ready-fd", "\(Daemon.readyDescriptor)",
                             "--server", ServerAddress.formatList(client.configuration.servers), "--log-level", logLevel]
            for option in options { arguments += ["-o", option] }
            if let primaryTimeout { arguments += ["--primary-timeout", "\(primaryTimeout)"] }
            if let logFile { arguments += ["--log-file", logFile] }
            // The daemon has no saved session to read it from (--token-stdin): it is passed on, or TLS off.
            arguments += ["--tls-ca", client.configuration.tls?.caFile ?? ""]
            try Daemon.start(arguments: arguments, token: token)
            return
        }

        let vfs = try await NetStoreVFS.start(
            client: client,
            configuration: VFSConfiguration(
                cacheDirectory: settings.cacheDirectory, blockCacheLimit: settings.cacheLimit,
                unlinkedLease: settings.unlinkedLease, watchedAttributeTimeout: settings.attributeTimeout,
                createAtClose: settings.createAtClose,
                stagingDirectory: try settings.stagingDirectory(user: client.session?.user.name ?? "user",
                                                                servers: client.configuration.servers, mountpoint: mountpoint)),
            logger: logger)
        let session = FUSESession(vfs: vfs, mountpoint: mountpoint, options: settings.fuseOptions, logger: logger)
        try session.mount()
        let signals = [SIGINT, SIGTERM, SIGHUP].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.notice("unmounting (signal \(number))")
                session.stop()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        if let readyFd {
            Daemon.report("ready", descriptor: readyFd)
            Daemon.detach(logFile: logFile)
        }
        logger.info("mounted", metadata: ["mountpoint": "\(mountpoint)"])
        _ = await session.run()
        let failed = await session.finish()
        await client.close()
        if failed > 0 {
            throw NetStoreError(.io, "\(failed) open file(s) could not be saved before unmounting: see the log")
        }
    }

    /// The daemon changes directory: a relative CA path is made absolute first.
    static func absolute(_ path: String) -> String {
        path.isEmpty || path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// A connected client: the saved token, else the password file, else a prompt.
    private func login(primaryWait: Duration, logger: Logger) async throws(NetStoreError) -> NetStoreClient {
        let clientLogger = ClientLogging.standardError(label: "netstore.client", level: logger.logLevel)
        let saved = tokenStdin ? nil : try SessionFile.standard().load()
        let servers = try DefaultServers.resolve(flag: server, saved: saved)
        let tls = try DefaultServers.resolveTLS(flag: tlsCA.map(Self.absolute), saved: saved)
        func connect(_ credentials: NetStoreClient.Credentials) async throws(NetStoreError) -> NetStoreClient {
            let client = NetStoreClient(NetStoreClient.Configuration(
                servers: servers, credentials: credentials, primaryWait: primaryWait, logger: clientLogger, tls: tls))
            do {
                try await client.connect()
                return client
            } catch {
                await client.close()
                throw error
            }
        }
        if tokenStdin {
            return try await connect(.token(Daemon.readLine(0)))
        }
        if let saved, user == nil || user == saved.user {
            do {
                return try await connect(.token(saved.token))
            } catch where error.code == .badToken {
                logger.notice("the saved session has expired; logging in with a password")
            }
        }
        guard let name = user ?? saved?.user else {
            throw NetStoreError(.notAuthenticated, "not logged in: run `netstore login USER` first, or give --user and --password-file")
        }
        let password: String
        if let passwordFile {
            password = try Terminal.readPasswordFile(passwordFile)
        } else {
            password = try Terminal.readPassword(prompt: "Password for \(name): ")
        }
        do {
            return try await connect(.password(user: name, password: password))
        } catch where error.code == .badCredentials {
            throw NetStoreError(.badCredentials, "wrong user name or password for \(name)")
        }
    }
}

/// The -o options NetStore itself reads; the rest go to FUSE.
struct MountSettings {
    var cacheDirectory: String
    var cacheLimit: UInt64 = 1 << 30
    /// How long a change waits for a primary before failing with EIO.
    var primaryTimeout: Duration = .seconds(30)
    /// How long a mount's directory of parked files may go unrenewed before other mounts sweep it.
    var unlinkedLease: Duration = .seconds(600)
    /// Seconds attributes and names are kept while the watch for changes is live.
    var attributeTimeout: Double = 30
    /// Whether a new file is made on the server at its first close (else at create).
    var createAtClose = true
    /// Write-back mode: a new small file's close returns once it is journaled locally.
    var writeBack = false
    var fuseOptions: [String] = []

    init(options: [String]) throws(NetStoreError) {
        cacheDirectory = VFSConfiguration.defaultCacheDirectory()
        for option in options.flatMap({ $0.split(separator: ",").map(String.init) }) where !option.isEmpty {
            if option.hasPrefix("cache=") {
                cacheDirectory = String(option.dropFirst("cache=".count))
            } else if option.hasPrefix("cache_size=") {
                guard let mebibytes = UInt64(option.dropFirst("cache_size=".count)), mebibytes > 0 else {
                    throw NetStoreError(.invalid, "-o cache_size takes a number of MiB, e.g. cache_size=1024")
                }
                cacheLimit = mebibytes << 20
            } else if option.hasPrefix("primary_timeout=") {
                guard let seconds = Int(option.dropFirst("primary_timeout=".count)), seconds >= 0 else {
                    throw NetStoreError(.invalid, "-o primary_timeout takes a number of seconds, e.g. primary_timeout=30")
                }
                primaryTimeout = .seconds(seconds)
            } else if option.hasPrefix("attr_timeout=") {
                guard let seconds = Double(option.dropFirst("attr_timeout=".count)), seconds >= 0, seconds <= 86_400 else {
                    throw NetStoreError(.invalid, "-o attr_timeout takes a number of seconds up to 86400, e.g. attr_timeout=30")
                }
                attributeTimeout = seconds
            } else if option == "create_at_open" {
                createAtClose = false
            } else if option == "writeback" {
                writeBack = true
            } else if option.hasPrefix("unlinked_lease=") {
                guard let seconds = Int(option.dropFirst("unlinked_lease=".count)), seconds > 0 else {
                    throw NetStoreError(.invalid, "-o unlinked_lease takes a number of seconds, e.g. unlinked_lease=600")
                }
                unlinkedLease = .seconds(seconds)
            } else {
                fuseOptions.append(option)
            }
        }
    }

    /// Write-back mode's journal: one per account, cluster and mountpoint, so
    /// that mounting the same again finds what was left unmade.
    func stagingDirectory(user: String, servers: [ServerAddress], mountpoint: String) throws(NetStoreError) -> String? {
        guard writeBack else { return nil }
        guard createAtClose else {
            throw NetStoreError(.invalid, "-o writeback stages files made at close: it cannot go with -o create_at_open")
        }
        let place = realpath(mountpoint, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? mountpoint
        let cluster = servers.first.map { "\($0.host)_\($0.port)" } ?? "cluster"
        return VFSConfiguration.stagingDirectory(in: cacheDirectory, user: user, cluster: cluster, mountpoint: place)
    }
}
