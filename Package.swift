// swift-tools-version:6.0
import PackageDescription

// Dependency direction (lower never imports higher):
//   NetStoreCore -> NetStoreProtocol -> NetStoreClient -> netstore (CLI)
//   NetStoreCore -> NetStoreConfig -> NetStoreClient (the default server list), netstore-server
//   NetStoreCore -> NetStoreStorage -> NetStoreAuth -> NetStoreServer -> netstore-server
//   NetStoreCore -> NetStoreReplication -> NetStoreServer
let package = Package(
    name: "NetStore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "netstore-server", targets: ["netstore-server"]),
        .executable(name: "netstore", targets: ["netstore"]),
        .executable(name: "netstore-mount", targets: ["netstore-mount"]),
        .executable(name: "netstore-web", targets: ["netstore-web"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
    ],
    targets: [
        // Pure value types shared by every layer: ids, attributes, name rules, limits, error codes.
        .target(name: "NetStoreCore"),
        // Wire format: frames, requests, responses. Pure codec over NIOCore buffers, no sockets.
        .target(name: "NetStoreProtocol", dependencies: [
            "NetStoreCore",
            .product(name: "NIOCore", package: "swift-nio"),
            "NetStoreReplication",
        ]),
        // Blocks on disk and the SQLite namespace.
        .target(name: "NetStoreStorage", dependencies: [
            "NetStoreCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Accounts: users, password hashing, session tokens, login throttling.
        .target(name: "NetStoreAuth", dependencies: [
            "NetStoreCore", "NetStoreStorage",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The NIO server: sockets, sessions, dispatch of requests to storage and auth.
        .target(name: "NetStoreServer", dependencies: [
            "NetStoreCore", "NetStoreProtocol", "NetStoreStorage", "NetStoreAuth",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            "NetStoreReplication",
            "NetStoreClient",
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            "NetStoreTLS",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
        ]),
        // The cluster's configuration file (TOML) parsed into typed values; reads the file, nothing else.
        .target(name: "NetStoreConfig", dependencies: [
            "NetStoreCore",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        // Client library used by the CLI (and later the mount and web viewer).
        .target(name: "NetStoreClient", dependencies: [
            "NetStoreCore", "NetStoreProtocol",
            "NetStoreConfig",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            "NetStoreTLS",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
        ]),
        // TLS: loading certificate files into NIOSSL configurations, and making a small cluster's private CA.
        .target(name: "NetStoreTLS", dependencies: [
            "NetStoreCore",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Primary/backup replication: state machines that take events and return actions (no I/O, no clock).
        .target(name: "NetStoreReplication", dependencies: ["NetStoreCore"]),
        .executableTarget(name: "netstore-server", dependencies: [
            "NetStoreServer",
            "NetStoreConfig",
            "NetStoreTLS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .executableTarget(name: "netstore", dependencies: [
            "NetStoreClient",
            "NetStoreTLS",
            // Only to report write-back mounts' journals in `netstore status`.
            "NetStoreVFS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // libfuse3 (low-level API) behind one shim header.
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        // File-system semantics for the mount: inodes, handles, write-back, block cache. No libfuse.
        .target(name: "NetStoreVFS", dependencies: [
            "NetStoreCore", "NetStoreClient", "NetStoreProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A thin libfuse3 adapter over NetStoreVFS.
        .target(name: "NetStoreFUSE", dependencies: [
            "CFuse3", "NetStoreCore", "NetStoreVFS",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "netstore-mount", dependencies: [
            "NetStoreFUSE", "NetStoreVFS", "NetStoreClient", "NetStoreTLS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        .testTarget(name: "NetStoreCoreTests", dependencies: ["NetStoreCore"]),
        .testTarget(name: "NetStoreConfigTests", dependencies: ["NetStoreConfig", "NetStoreCore"]),
        .testTarget(name: "NetStoreTLSTests", dependencies: [
            "NetStoreTLS", "NetStoreCore",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .testTarget(name: "NetStoreProtocolTests", dependencies: [
            "NetStoreProtocol", "NetStoreReplication",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]),
        .testTarget(name: "NetStoreStorageTests", dependencies: [
            "NetStoreStorage",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "NetStoreAuthTests", dependencies: [
            "NetStoreAuth", "NetStoreStorage",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "NetStoreServerTests", dependencies: [
            "NetStoreServer", "NetStoreClient", "NetStoreProtocol", "NetStoreReplication", "NetStoreStorage",
            "NetStoreTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "NetStoreClientTests", dependencies: [
            "NetStoreClient", "NetStoreProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Includes the deterministic simulation of a replicated cluster.
        .testTarget(name: "NetStoreReplicationTests", dependencies: ["NetStoreReplication", "NetStoreCore"]),
        // Starting real netstore processes on 127.0.0.1, for the test targets that need them.
        .target(name: "NetStoreTestSupport", path: "Tests/NetStoreTestSupport"),
        // Starts the real netstore-server and netstore binaries on 127.0.0.1.
        .testTarget(name: "IntegrationTests", dependencies: [
            "NetStoreTestSupport",
            "NetStoreCore", "NetStoreProtocol", "NetStoreStorage",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "NetStoreVFSTests", dependencies: [
            "NetStoreVFS", "NetStoreServer", "NetStoreClient", "NetStoreCore", "NetStoreTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Starts the real netstore-server and netstore-mount and works through a real FUSE mount.
        .testTarget(name: "MountTests", dependencies: [
            "NetStoreTestSupport", "NetStoreCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // The web viewer: a Hummingbird app, a stateless client of the cluster.
        .target(name: "NetStoreWeb", dependencies: [
            "NetStoreCore", "NetStoreClient",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            "NetStoreTLS",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "netstore-web", dependencies: [
            "NetStoreWeb", "NetStoreClient", "NetStoreCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            "NetStoreTLS",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // In-process router tests against a real netstore-server process.
        .testTarget(name: "NetStoreWebTests", dependencies: [
            "NetStoreTestSupport",
            "NetStoreWeb", "NetStoreClient", "NetStoreCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ]
)
