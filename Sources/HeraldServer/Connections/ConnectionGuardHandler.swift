import NIOCore
import NIOHTTP1

/// Carries out ``ConnectionGuard`` on a connection: it sits right behind the HTTP decoder and the upgrade
/// handler, so it sees request parts, the decoder's errors, every read (through `channelReadComplete`,
/// even one that completed no part) and every response part written.
///
/// NIO's decoder refuses malformed and oversized heads, but with Hummingbird's WebSocket-upgrade channel
/// nothing answered its error on a connection's first request: the connection stayed open, silent, for
/// ever. This handler answers it (400, or 431 for a head over the size or field-count limit) and closes.
/// It leaves the pipeline when a WebSocket upgrade completes.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let timeouts: ConnectionGuard.Timeouts
    private var state = ConnectionGuard()
    private var timer: Scheduled<Void>?
    /// Whether the read under way has produced a request part (else its bytes belong to a head to come).
    private var readProducedPart = false
    /// The input-closed event goes through the pipeline once: it comes back to this handler.
    private var sentInputClosed = false

    init(timeouts: ConnectionGuard.Timeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { perform(state.connectionActive(), context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(state.connectionActive(), context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        // A connection that closed before its first request reached Hummingbird (a refused head whose
        // client hung up, a reset): tell the upgrade handler, still waiting, that input is over, so it
        // ends quietly rather than failing with an error log when the pipeline is torn down.
        if state.headsReceived == 0 { sendInputClosedOnce(context) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readProducedPart = true
        switch unwrapInboundIn(data) {
        case .head: perform(state.headReceived(), context)
        case .body: break
        case .end: perform(state.endReceived(), context)
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !readProducedPart { perform(state.bytesArrived(), context) }
        readProducedPart = false
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        switch state.responseEnded() {
        case .none:
            context.write(data, promise: promise)
        case .arm(let deadline):
            context.write(data, promise: promise)
            arm(deadline, context)
        case .close:
            cancelTimer()
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let action: ConnectionGuard.ErrorAction
        if let parserError = error as? HTTPParserError {
            action = state.parseError(tooLarge: parserError == .headerOverflow)
        } else {
            action = state.otherError()
        }
        switch action {
        case .forward:
            context.fireErrorCaught(error)
        case .ignore:
            break
        case .answer(let status):
            answer(HTTPResponseStatus(statusCode: status), context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Forwarded or not, never both: past the first request Hummingbird's handler owns shutdown.
            switch state.quiesce() {
            case .forward: context.fireUserInboundEventTriggered(event)
            case .close(let close): perform(close, context)
            }
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            switch state.inputClosed() {
            case .forward: context.fireUserInboundEventTriggered(event)
            case .close(let close): perform(close, context)
            }
        } else if case .upgradeComplete = event as? HTTPServerUpgradeEvents {
            // A WebSocket lives as long as its peers want; its own pings and close handshake govern it.
            cancelTimer()
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Writes a bodiless answer with `Connection: close`, closes output once it is flushed, and gives the
    /// client the linger deadline to stop sending (closing with unread input would reset the connection,
    /// and the client could lose the answer).
    private func answer(_ status: HTTPResponseStatus, _ context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: ["Connection": "close", "Content-Length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let flushed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: flushed)
        flushed.futureResult.assumeIsolated().whenComplete { _ in context.close(mode: .output, promise: nil) }
        arm(.linger, context)
    }

    private func perform(_ action: ConnectionGuard.TimerAction, _ context: ChannelHandlerContext) {
        switch action {
        case .none: break
        case .arm(let deadline): arm(deadline, context)
        case .disarm: cancelTimer()
        }
    }

    private func perform(_ action: ConnectionGuard.CloseAction, _ context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .close:
            cancelTimer()
            context.close(promise: nil)
        case .closeQuietly:
            cancelTimer()
            sendInputClosedOnce(context)
            context.close(promise: nil)
        }
    }

    /// Through the whole pipeline, so the upgrade handler in front of us sees it.
    private func sendInputClosedOnce(_ context: ChannelHandlerContext) {
        guard !sentInputClosed else { return }
        sentInputClosed = true
        context.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    private func arm(_ deadline: ConnectionGuard.Deadline, _ context: ChannelHandlerContext) {
        cancelTimer()
        let delay: TimeAmount =
            switch deadline {
            case .head: timeouts.head
            case .body: timeouts.body
            case .idle: timeouts.idle
            case .linger: timeouts.linger
            }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.timer = nil
            self.perform(self.state.deadlinePassed(deadline), context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
