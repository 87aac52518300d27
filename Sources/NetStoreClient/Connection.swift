#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import NetStoreCore
import NIOSSL
import NIOTLS
import NetStoreProtocol
import NetStoreTLS

/// One TCP connection to one server, with many requests in flight at once.
///
/// Each request gets the next id; replies are matched to their requests by id,
/// in whatever order they come. An error reply fails only its own request. A
/// lost connection, or a malformed frame from the server (after which the
/// connection is closed), fails every pending request with `.io`.
/// A `Connection` neither authenticates nor reconnects: `NetStoreClient` does.
public final class Connection: Sendable {
    public let address: ServerAddress
    private let channel: any Channel
    private let pending: PendingRequests
    private let notices: NoticeRelay
    private let logger: Logger

    private init(address: ServerAddress, channel: any Channel, pending: PendingRequests, notices: NoticeRelay, logger: Logger) {
        self.address = address
        self.channel = channel
        self.pending = pending
        self.notices = notices
        self.logger = logger
    }

    /// How much one socket read may take. NIO's default stops at 64 KiB, so a
    /// reply carrying a 1 MiB block arrived in sixteen reads or more, each
    /// appended to the decoder's buffer; reads grow (and shrink again) up to
    /// 2 MiB here when the peer keeps them full. Servers keep NIO's default:
    /// with 2 MiB reads a large upload was slower (a 1 GiB `dd` 96-99 MiB/s
    /// against 100-107).
    static var socketReads: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 2 << 20)
    }

    /// Opens a connection, failing with `.timedOut` or `.io` when the server
    /// cannot be reached within `timeout`. With `tls`, the connection is TLS and
    /// returns once the handshake has verified the server's certificate.
    public static func connect(
        to address: ServerAddress,
        timeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: ClientTLS? = nil,
        logger: Logger = Logger(label: "netstore.client")
    ) async throws(NetStoreError) -> Connection {
        let pending = PendingRequests()
        let notices = NoticeRelay()
        let handshake = tls.map { _ in group.any().makePromise(of: Void.self) }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: Self.socketReads)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let handshake {
                        try channel.pipeline.syncOperations.addHandler(tls.makeHandler(host: address.host))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(handshake))
                    }
                    try channel.pipeline.syncOperations.addHandler(FramePartsWriter())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ResponseFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseDispatcher(pending: pending, notices: notices, address: address, logger: logger))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch ChannelError.connectTimeout {
            throw NetStoreError(.timedOut, "cannot connect to \(address): no answer within \(timeout)")
        } catch {
            handshake?.fail(ChannelError.alreadyClosed)
            throw NetStoreError(.io, "cannot connect to \(address): \(Self.describe(error))")
        }
        if let tls, let handshake {
            try await awaitHandshake(handshake, on: channel, address: address, tls: tls, timeout: timeout)
        }
        logger.debug("connected", metadata: ["server": "\(address)", "tls": "\(tls != nil)"])
        return Connection(address: address, channel: channel, pending: pending, notices: notices, logger: logger)
    }

    private static func awaitHandshake(
        _ handshake: EventLoopPromise<Void>, on channel: any Channel, address: ServerAddress, tls: ClientTLS, timeout: Duration
    ) async throws(NetStoreError) {
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            handshake.fail(ChannelError.connectTimeout(TimeAmount(timeout)))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            try await handshake.futureResult.get()
        } catch ChannelError.connectTimeout {
            try? await channel.close()
            throw NetStoreError(.timedOut, "cannot connect to \(address): no TLS handshake within \(timeout)")
        } catch {
            try? await channel.close()
            throw NetStoreError(.io, "cannot connect to \(address): \(TLSFailure.describe(error, server: "\(address)", caFile: tls.caFile))")
        }
    }

    /// Sends a request and waits for its reply. An error reply throws the
    /// `NetStoreError` it carries; a lost connection throws `.io`.
    public func send(_ request: Request) async throws(NetStoreError) -> Response {
        switch await exchange(request) {
        case .reply(let result): return try result.get()
        case .lost(let error), .unsent(let error): throw error
        }
    }

    /// Like `send`, but tells a lost connection apart from an error reply, so
    /// that the caller can decide whether to reconnect and retry.
    func exchange(_ request: Request) async -> PendingRequests.Outcome {
        return await withCheckedContinuation { continuation in
            guard let id = pending.register(continuation) else { return }
            // Encoded here rather than in the pipeline: a frame that breaks a limit
            // fails only its own request instead of closing the connection.
            let frame: FrameParts
            do throws(NetStoreError) {
                frame = try FrameCodec.tryEncodeParts(RequestFrame(requestID: id, request: request), allocator: channel.allocator)
            } catch {
                pending.refuse(id, with: error)
                return
            }
            channel.writeAndFlush(frame).whenFailure { [pending, address] error in
                pending.fail(id, with: NetStoreError(
                    .io, "lost the connection to \(address): cannot send: \(Self.describe(error))"))
            }
        }
    }

    /// Sends a request that has no reply (`replicateNotice`), returning once it
    /// is written to the socket: a peer that stops reading holds the caller back
    /// instead of frames piling up here. A refusal comes back as the server's
    /// last word and closes the connection, failing what is pending. Throws if
    /// the request cannot be encoded, or if the connection is closed or lost.
    public func notify(_ request: Request) async throws(NetStoreError) {
        if let failure = pending.failure { throw failure }
        let frame = try FrameCodec.tryEncodeParts(RequestFrame(requestID: 0, request: request), allocator: channel.allocator)
        do {
            try await channel.writeAndFlush(frame).get()
        } catch {
            throw NetStoreError(.io, "lost the connection to \(address): cannot send: \(Self.describe(error))")
        }
    }

    /// True until the connection is closed or lost.
    public var isActive: Bool { pending.failure == nil && channel.isActive }

    /// Who hears the CHANGES frames this connection receives (after a WATCH):
    /// called on the connection's event loop, so it must not block. Nil: nobody.
    public func onNotices(_ handler: (@Sendable ([ChangeNotice]) -> Void)?) {
        notices.set(handler)
    }

    /// Calls `callback` once the connection is closed or lost (at once if it is).
    public func whenClosed(_ callback: @escaping @Sendable () -> Void) {
        channel.closeFuture.whenComplete { _ in callback() }
    }

    /// Requests sent whose replies have not come yet.
    public var pendingCount: Int { pending.count }

    /// Closes the connection; requests still pending fail with `.io`.
    public func close() async {
        pending.failAll(with: NetStoreError(.io, "lost the connection to \(address): closed by the client"))
        do {
            try await channel.close()
        } catch ChannelError.alreadyClosed {
        } catch {
            logger.debug("close failed", metadata: ["server": "\(address)", "error": "\(error)"])
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NetStoreError: error.message.isEmpty ? error.code.name : error.message
        case let error as ProtocolError: error.description
        case let error as IOError: String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                describe(first.error)
            } else if error.dnsAError != nil || error.dnsAAAAError != nil {
                "cannot resolve the host name \(error.host)"
            } else {
                "\(error)"
            }
        default: "\(error)"
        }
    }
}

/// Hands each reply to the request waiting for it; fails them all when the
/// connection goes away.
private final class ResponseDispatcher: ChannelInboundHandler {
    typealias InboundIn = ResponseFrame

    private let pending: PendingRequests
    private let notices: NoticeRelay
    private let address: ServerAddress
    private let logger: Logger

    init(pending: PendingRequests, notices: NoticeRelay, address: ServerAddress, logger: Logger) {
        self.pending = pending
        self.notices = notices
        self.address = address
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame.opcode == .changes, case .success(.changes(let changes)) = frame.result {
            // Unasked (the decoder checked its reserved id): not a reply to anything.
            notices.deliver(changes)
        } else if frame.requestID == 0, case .failure(let error) = frame.result {
            // The server's last word before it closes (a malformed frame, or TLS required).
            fail(context: context, reason: error.message)
        } else if !pending.complete(frame) {
            // A reply nobody asked for: the server and this client disagree about the stream.
            fail(context: context, reason: "protocol error: a reply to unknown request \(frame.requestID)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, reason: Connection.describe(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending.failAll(with: NetStoreError(.io, "lost the connection to \(address): closed by the server"))
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, reason: String) {
        logger.info("connection failed", metadata: ["server": "\(address)", "reason": "\(reason)"])
        pending.failAll(with: NetStoreError(.io, "lost the connection to \(address): \(reason)"))
        context.close(promise: nil)
    }
}

/// Completes the promise when the TLS handshake is done, or fails it with the
/// error that ended the handshake (the connection closing first counts as one).
private final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var promise: EventLoopPromise<Void>?

    init(_ promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { complete(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard promise == nil else {
            // The handshake failed: `connect` reports it; the connection was never in use.
            complete(.failure(error))
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(NIOSSLError.uncleanShutdown))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        complete(.failure(NIOSSLError.uncleanShutdown))
    }

    private func complete(_ result: Result<Void, any Error>) {
        promise?.completeWith(result)
        promise = nil
    }
}
