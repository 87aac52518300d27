import Crypto
import NIOCore
import NetStoreCore
import NetStoreProtocol
import Synchronization

/// The few requests an upload, a download and a login need, answered from
/// memory, so that the client's side of those exchanges (chunking, holes,
/// dedup, hash checks, reconnects) can be checked in process. The real
/// server's behaviour is proven by the integration tests.
final class FakeStore: Sendable {
    static let root: NodeID = 1
    static let password = "correct horse"
    static let token = "token-1"

    struct State {
        var nextNode: NodeID = 2
        var nodes: [NodeID: NodeAttributes] = [FakeStore.root: attributes(id: FakeStore.root, kind: .directory)]
        var entries: [NodeID: [String: NodeID]] = [FakeStore.root: [:]]
        var contents: [NodeID: FileContent] = [:]
        var blocks: [BlockID: [UInt8]] = [:]
        var corrupt: Set<BlockID> = []
        var puts = 0
        var authentications = 0
        var requests: [Opcode] = []
    }

    let state = Mutex(State())

    static func session(token: String) -> SessionInfo {
        SessionInfo(
            token: token,
            user: UserInfo(id: 1, name: "alice", role: .user, rootNode: root, createdNs: 0),
            expiresNs: 0)
    }

    func respond(_ request: Request) -> TestAction {
        .reply(state.withLock { state in
            state.requests.append(request.opcode)
            return Self.answer(request, &state)
        })
    }

    private static func answer(_ request: Request, _ state: inout State) -> Result<Response, NetStoreError> {
        switch request {
        case .ping:
            return .success(.empty)
        case .login(_, let password):
            state.authentications += 1
            return password == Self.password
                ? .success(.session(session(token: token))) : .failure(NetStoreError(.badCredentials))
        case .auth(let presented):
            state.authentications += 1
            return presented == token ? .success(.session(session(token: ""))) : .failure(NetStoreError(.badToken))
        case .getattr(let node):
            guard let node = state.nodes[node] else { return .failure(NetStoreError(.noEntry)) }
            return .success(.attributes(node))
        case .lookup(let parent, let name):
            guard let id = state.entries[parent]?[name], let node = state.nodes[id] else {
                return .failure(NetStoreError(.noEntry, "no '\(name)'"))
            }
            return .success(.attributes(node))
        case .create(let parent, let name, _, _, _), .mkdir(let parent, let name, _, _, _):
            guard state.entries[parent] != nil else { return .failure(NetStoreError(.noEntry)) }
            if state.entries[parent]![name] != nil { return .failure(NetStoreError(.exists)) }
            let id = state.nextNode
            state.nextNode += 1
            let isDirectory = request.opcode == .mkdir
            state.nodes[id] = attributes(id: id, kind: isDirectory ? .directory : .file)
            if isDirectory { state.entries[id] = [:] }
            state.entries[parent]![name] = id
            return .success(.attributes(state.nodes[id]!))
        case .hasBlocks(let ids):
            return .success(.presence(ids.map { state.blocks[$0] != nil }))
        case .putBlock(let id, let data):
            let bytes = Array(data.readableBytesView)
            guard Array(SHA256.hash(data: bytes)) == id.bytes else {
                return .failure(NetStoreError(.invalid, "block does not match its id"))
            }
            state.blocks[id] = bytes
            state.puts += 1
            return .success(.empty)
        case .commit(let node, let baseVersion, let size, let blocks):
            guard var attributes = state.nodes[node] else { return .failure(NetStoreError(.noEntry)) }
            guard attributes.version == baseVersion else { return .failure(NetStoreError(.versionConflict)) }
            guard blocks.allSatisfy({ $0.isHole || state.blocks[$0] != nil }) else {
                return .failure(NetStoreError(.missingBlocks))
            }
            attributes.version += 1
            attributes.size = size
            state.nodes[node] = attributes
            state.contents[node] = FileContent(version: attributes.version, size: size, blocks: blocks)
            return .success(.attributes(attributes))
        case .getContent(let node):
            guard let attributes = state.nodes[node] else { return .failure(NetStoreError(.noEntry)) }
            return .success(.content(state.contents[node] ?? FileContent(version: attributes.version, size: 0, blocks: [])))
        case .getBlock(let id):
            guard var bytes = state.blocks[id] else { return .failure(NetStoreError(.noEntry)) }
            if state.corrupt.contains(id) { bytes[0] ^= 0xFF }
            return .success(.block(ByteBuffer(bytes: bytes)))
        default:
            return .failure(NetStoreError(.notImplemented))
        }
    }
}
