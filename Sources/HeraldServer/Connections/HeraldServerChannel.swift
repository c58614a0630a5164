import Herald
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// The server's connections: HTTP/1.1 with the live inbox's WebSocket upgrade
/// (`HTTP1WebSocketUpgradeChannel`), admitted by a ``ConnectionGate`` (the cap on open connections) and
/// watched by a ``ConnectionGuardHandler`` (deadlines for heads, bodies and idle time, and an answer for
/// heads the decoder refuses).
struct HeraldServerChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let base: HTTP1WebSocketUpgradeChannel
    let gate: ConnectionGate
    let timeouts: ConnectionGuard.Timeouts

    /// Why a connection over the cap never reaches the server: NIO drops the failed setup quietly.
    struct ConnectionRefused: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard gate.admit(channel) else { return channel.eventLoop.makeFailedFuture(ConnectionRefused()) }
        let timeouts = self.timeouts
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Behind the decoder and the upgrade handler, ahead of what Hummingbird adds for a plain request.
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(timeouts: timeouts))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades through `webSocketRouter`, on ``HeraldServerChannel`` connections
    /// admitted by `gate` and bound by `limits`. The decoder's head limits come from `limits` (the rest of
    /// `configuration.http1` is Hummingbird's default).
    static func herald(
        webSocketRouter: Router<HeraldWebSocketContext>, configuration: HTTP1WebSocketUpgradeChannel.Configuration, limits: ConnectionLimits,
        gate: ConnectionGate
    ) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeadBytes, maxHeaderListSize: limits.maxHeadBytes, maxHeaderFieldCount: limits.maxHeaderCount)
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(httpDecoderConfiguration: decoder), ws: configuration.ws)
        let timeouts = ConnectionGuard.Timeouts(
            head: Seconds(clamping: limits.headTimeoutSeconds).timeAmount, body: Seconds(clamping: limits.bodyTimeoutSeconds).timeAmount,
            idle: Seconds(clamping: limits.idleTimeoutSeconds).timeAmount)
        return HTTPServerBuilder { responder in
            HeraldServerChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: channelConfiguration),
                gate: gate, timeouts: timeouts)
        }
    }
}
