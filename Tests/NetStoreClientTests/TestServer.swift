import NIOCore
import NIOPosix
import NetStoreCore
import NetStoreProtocol
import Synchronization

/// What the test server does with one request.
enum TestAction: Sendable {
    /// Reply, perhaps after a delay (so replies overtake each other).
    case reply(Result<Response, NetStoreError>, after: TimeAmount = .zero)
    /// Close the connection without replying.
    case close
    /// Never reply.
    case ignore
}

/// A server on 127.0.0.1 built from the protocol module's frame handlers, whose
/// answers a test scripts: `respond(connectionNumber, request)` runs on the
/// connection's event loop for every request.
final class TestServer: Sendable {
    typealias Responder = @Sendable (_ connection: Int, _ request: Request) -> TestAction

    let port: Int
    private let channel: any Channel
    private let connections = Mutex<[any Channel]>([])

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    static func start(port: Int = 0, _ respond: @escaping Responder) async throws -> TestServer {
        let counter = Atomic<Int>(0)
        let box = Mutex<TestServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
                box.withLock { server in server?.connections.withLock { $0.append(child) } }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(RequestFrameDecoder()))
                    try child.pipeline.syncOperations.addHandler(MessageToByteHandler(ResponseFrameEncoder()))
                    try child.pipeline.syncOperations.addHandler(ScriptedHandler(connection: number, respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        let server = TestServer(port: channel.localAddress!.port!, channel: channel)
        box.withLock { $0 = server }
        return server
    }

    /// Closes every accepted connection (the listener stays up).
    func dropConnections() async {
        let open = connections.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for channel in open { try? await channel.close() }
    }

    func stop() async {
        await dropConnections()
        try? await channel.close()
    }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = RequestFrame
    typealias OutboundOut = ResponseFrame

    private let connection: Int
    private let respond: TestServer.Responder

    init(connection: Int, respond: @escaping TestServer.Responder) {
        self.connection = connection
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch respond(connection, frame.request) {
        case .reply(let result, let delay):
            let reply = ResponseFrame(requestID: frame.requestID, opcode: frame.request.opcode, result: result)
            if delay == .zero {
                context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            } else {
                let channel = context.channel
                context.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(reply, promise: nil) }
            }
        case .close:
            context.close(promise: nil)
        case .ignore:
            break
        }
    }
}
