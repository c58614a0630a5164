import NIOCore

/// Closes a connection that has not sent a byte when the server shuts down, or when it has stayed silent
/// for ``timeout``; steps out of the pipeline at the connection's first bytes.
///
/// Hummingbird's WebSocket-upgrade channel adds the handler that closes idle connections on graceful
/// shutdown only once the first request has arrived. Before that, nothing on the connection answers the
/// quiesce event, so a connection that never spoke (a port scan, a load balancer's TCP check, an HTTP
/// client pool's spare connection) kept `herald serve` from finishing its shutdown for as long as the
/// client held it open, and kept a socket open for ever if the client never sent anything.
final class SilentConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// How long a new connection may stay silent before it is closed (Go's and nginx's header timeouts
    /// play the same part).
    static let defaultTimeout = TimeAmount.seconds(30)

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount = SilentConnectionHandler.defaultTimeout) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The connection spoke: from here on Hummingbird's handlers own its shutdown and idle time.
        disarm()
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            Self.close(context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { Self.close(context) }
    }

    /// Closes the way a client's own hang-up does: the upgrade handler behind us then ends its wait for a
    /// first request quietly, where a bare close would have it log an error for a connection nobody used.
    private static func close(_ context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        context.close(promise: nil)
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
