import Foundation
import Synchronization

/// Hosts on one Ethernet segment, each a network namespace with its own address,
/// wired by a veth pair to a bridge in a namespace of its own, so nothing touches
/// this machine's own network. `cut` takes a host's link down (a pulled cable)
/// and `restore` brings it back.
///
/// Names are `nst<pid>n<k>` plus `h<i>` for host i and `br` for the bridge, so
/// one test process never collides with another; namespaces left by a process
/// that no longer runs (a killed earlier run) are removed when a network is made.
public final class VirtualNetwork: Sendable {
    public struct Host: Sendable, CustomStringConvertible {
        public let namespace: NetworkNamespace
        /// Its IPv4 address on the segment.
        public let address: String
        public var description: String { "\(address) (\(namespace))" }
    }

    public static let prefix = "nst"
    /// The segment: host i is 10.201.0.(i+1). Private to these namespaces.
    static let subnet = "10.201.0"
    private static let counter = Mutex(0)

    public let name: String
    public let hosts: [Host]
    let bridge: NetworkNamespace
    private let removed = Mutex(false)

    /// Makes `count` hosts on a fresh bridge; throws (never skips) if namespaces cannot be made.
    public init(hosts count: Int) throws {
        precondition(count > 0 && count < 200)
        _ = try NetworkNamespace.requireSupport()
        Self.removeLeftovers()
        let serial = Self.counter.withLock { value in
            defer { value += 1 }
            return value
        }
        name = "\(Self.prefix)\(getpid())n\(serial)"
        var made: [NetworkNamespace] = []
        do {
            let bridge = try NetworkNamespace.add("\(name)br")
            made.append(bridge)
            try bridge.ip("link", "add", "br0", "type", "bridge")
            try bridge.ip("link", "set", "br0", "up")
            var hosts: [Host] = []
            for index in 0..<count {
                let host = try NetworkNamespace.add("\(name)h\(index)")
                made.append(host)
                // One end in the bridge's namespace, the other ("eth0") in the host's.
                try bridge.ip("link", "add", "p\(index)", "type", "veth", "peer", "name", "eth0", "netns", host.name)
                try bridge.ip("link", "set", "p\(index)", "master", "br0", "up")
                let address = "\(Self.subnet).\(index + 1)"
                try host.ip("addr", "add", "\(address)/24", "dev", "eth0")
                try host.ip("link", "set", "eth0", "up")
                hosts.append(Host(namespace: host, address: address))
            }
            self.bridge = bridge
            self.hosts = hosts
        } catch {
            made.forEach { $0.delete() }
            throw error
        }
    }

    /// Takes host `index`'s link down: it reaches nobody and nobody reaches it
    /// (connections to it stall, as with a pulled cable), but it still reaches itself.
    public func cut(_ index: Int) throws {
        try hosts[index].namespace.ip("link", "set", "eth0", "down")
    }

    /// Brings host `index`'s link back up.
    public func restore(_ index: Int) throws {
        try hosts[index].namespace.ip("link", "set", "eth0", "up")
    }

    /// Kills whatever still runs in the namespaces and deletes them; safe to call twice.
    public func remove() {
        guard removed.withLock({ done in defer { done = true }; return !done }) else { return }
        for host in hosts { host.namespace.delete() }
        bridge.delete()
    }

    deinit { remove() }

    /// Deletes namespaces with this prefix whose creating process is gone.
    public static func removeLeftovers() {
        for name in NetworkNamespace.all() where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = pid_t(digits), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // its test process still runs
            NetworkNamespace(name: name).delete()
        }
    }
}
