/// One server of the cluster, as named in the configuration.
public struct ReplicaID: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "r\(rawValue)" }
}
