import ArgumentParser
import NetStoreClient
import NetStoreCore

#if canImport(Glibc)
import Glibc
#endif

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a directory.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .short, help: "Long format: mode, links, size, modification time, name.") var long = false
    @Argument(help: "A path in your store (default /).") var path: String = "/"

    func run() async throws {
        let path = try RemotePath(path)
        try await withClient(global) { client throws(NetStoreError) in
            let node = try await client.resolve(path)
            var rows: [(name: String, attributes: NodeAttributes)]
            if node.kind == .directory {
                let atRoot = try await node.id == client.rootNode()
                rows = try await client.readdirAll(node.id)
                    .filter { !(atRoot && $0.name == NameRules.unlinkedDirectoryName) }
                    .map { ($0.name, $0.attributes) }
                rows.sort { $0.name < $1.name }
            } else {
                rows = [(path.name ?? "/", node)]
            }
            guard long else {
                for row in rows { print(row.name) }
                return
            }
            let linkWidth = rows.map { String($0.attributes.nlink).count }.max() ?? 1
            let sizeWidth = rows.map { String($0.attributes.size).count }.max() ?? 1
            for row in rows {
                let attributes = row.attributes
                var name = row.name
                if attributes.kind == .symlink, let target = try? await client.readlink(attributes.id) {
                    name += " -> \(target)"
                }
                print([
                    attributes.modeString,
                    Formatting.padLeft(String(attributes.nlink), linkWidth),
                    Formatting.padLeft(String(attributes.size), sizeWidth),
                    Formatting.lsTime(nanoseconds: attributes.mtimeNs),
                    name,
                ].joined(separator: " "))
            }
        }
    }
}

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload a local file (into REMOTE if it is a directory).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The local file.") var local: String
    @Argument(help: "The path in your store.") var remote: String

    func run() async throws {
        let remote = try RemotePath(remote)
        let bar = ProgressBar(label: "put")
        defer { bar.finish() }
        try await withClient(global) { client throws(NetStoreError) in
            _ = try await client.upload(from: local, to: remote, progress: bar.handler)
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a file (into LOCAL if it is a directory).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The path in your store.") var remote: String
    @Argument(help: "The local file or directory.") var local: String

    func run() async throws {
        let remote = try RemotePath(remote)
        guard let name = remote.name else { throw NetStoreError(.isDirectory, "/: is a directory") }
        var destination = local
        var info = stat()
        if stat(local, &info) == 0, UInt32(info.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR) {
            destination = local.hasSuffix("/") ? local + name : "\(local)/\(name)"
        }
        let bar = ProgressBar(label: "get")
        defer { bar.finish() }
        try await withClient(global) { [destination] client throws(NetStoreError) in
            _ = try await client.download(remote, to: destination, progress: bar.handler)
        }
    }
}

struct Cat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a file to standard output.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The path in your store.") var path: String

    func run() async throws {
        let path = try RemotePath(path)
        try await withClient(global) { client throws(NetStoreError) in
            let node = try await client.resolve(path)
            guard node.kind == .file else {
                throw NetStoreError(.isDirectory, "\(path): \(node.kind == .directory ? "is a directory" : "not a regular file")")
            }
            try await client.write(node, toDescriptor: 1)
        }
    }
}

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a file, or a directory with -r.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .short, help: "Remove a directory and everything in it.") var recursive = false
    @Argument(help: "The path in your store.") var path: String

    func run() async throws {
        let path = try RemotePath(path)
        if path.isRoot { throw NetStoreError(.notPermitted, "/: the root directory cannot be removed") }
        try await withClient(global) { client throws(NetStoreError) in
            try await client.remove(path, recursive: recursive)
        }
    }
}

struct MakeDirectory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mkdir", abstract: "Create a directory.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .short, help: "Create missing parents too; an existing directory is fine.") var parents = false
    @Argument(help: "The path in your store.") var path: String

    func run() async throws {
        let path = try RemotePath(path)
        try await withClient(global) { client throws(NetStoreError) in
            if parents {
                try await client.makeDirectories(path)
            } else {
                try await client.makeDirectory(path)
            }
        }
    }
}

struct Move: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mv", abstract: "Rename or move (into TO if it is a directory).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The path to move.") var from: String
    @Argument(help: "The new path, or a directory to move into.") var to: String

    func run() async throws {
        let from = try RemotePath(from)
        let to = try RemotePath(to)
        try await withClient(global) { client throws(NetStoreError) in
            try await client.move(from, to: to)
        }
    }
}

struct Stat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a path's attributes.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The path in your store.") var path: String

    func run() async throws {
        let path = try RemotePath(path)
        try await withClient(global) { client throws(NetStoreError) in
            let node = try await client.resolve(path)
            var name = path.description
            if node.kind == .symlink { name += " -> \(try await client.readlink(node.id))" }
            print("  File: \(name)")
            print("  Type: \(node.kind.displayName)")
            print("  Size: \(node.size)")
            print("  Node: \(node.id)  Links: \(node.nlink)  Version: \(node.version)")
            print("Access: (0\(String(node.mode, radix: 8))/\(node.modeString))  Uid: \(node.uid)  Gid: \(node.gid)")
            print("Access: \(Formatting.fullTime(nanoseconds: node.atimeNs))")
            print("Modify: \(Formatting.fullTime(nanoseconds: node.mtimeNs))")
            print("Change: \(Formatting.fullTime(nanoseconds: node.ctimeNs))")
        }
    }
}
