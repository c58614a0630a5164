import Hummingbird
import HummingbirdWebSocket

/// The request context of the WebSocket upgrade router, which sees only upgrade requests.
public struct HeraldWebSocketContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }
}
