import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The live inbox over Server-Sent Events: `GET /v1/inbox/stream`, authenticated like the rest of the
/// inbox (a bearer subscriber token, or `?token=` since `EventSource` cannot set headers).
struct InboxStreamRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("stream") { request, context in
            let claims = try context.requireSubscriber()
            let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("last_event_id")
            let updates = try await engine.inboxUpdates(claims, lastEventID: lastEventID)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache, no-transform"
            // nginx and similar proxies buffer responses unless told not to.
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    try await writer.write(ServerSentEvent.preamble)
                    // A write to a client that has gone throws, which ends the loop and closes the stream.
                    // A server shutting down ends it too (the server waits for open responses before it
                    // stops); the client reconnects, to another node if there is one, and resumes.
                    try await withGracefulShutdownHandler {
                        for await update in updates {
                            try await writer.write(ServerSentEvent.encode(update))
                        }
                    } onGracefulShutdown: {
                        updates.close()
                    }
                    try await writer.finish(nil)
                })
        }
        // A plain GET of the WebSocket address: say what it needs instead of a bare 404.
        group.get("ws") { _, _ -> Response in
            throw ProblemDetails(
                type: "upgrade-required", title: "Upgrade Required", status: .upgradeRequired,
                detail: "GET /v1/inbox/ws is a WebSocket endpoint: open it with a WebSocket client (Connection: Upgrade, Upgrade: websocket)")
        }
    }
}
