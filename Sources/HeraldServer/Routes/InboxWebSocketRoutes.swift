import Foundation
import Herald
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// The live inbox over WebSocket: `GET /v1/inbox/ws?token=…` (or a bearer token).
///
/// The server sends the same JSON updates as the SSE stream, one per text frame. The client may send
/// commands as text frames: `{"type":"read","message_id":"msg_1"}`, `{"type":"archive",…}`,
/// `{"type":"read_all"}`, `{"type":"seen"}`; their effect comes back as updates like any other change.
/// A bad command is answered with an `error` frame naming the field, and the connection stays open.
struct InboxWebSocketRoutes {
    let engine: HeraldEngine

    /// Largest command frame accepted.
    static let maxCommandBytes = 4096

    func register(on router: Router<HeraldWebSocketContext>) {
        router.ws(
            "v1/inbox/ws",
            shouldUpgrade: { request, _ in
                guard let token = request.bearerToken ?? request.uri.queryParameters.get("token"), engine.verifySubscriberToken(token) != nil
                else { throw HTTPError(.unauthorized, message: "a valid subscriber token is required (?token= or Authorization: Bearer)") }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                guard let token = context.request.bearerToken ?? context.request.uri.queryParameters.get("token"),
                    let claims = engine.verifySubscriberToken(token)
                else { return }
                let after = context.request.uri.queryParameters.get("after") ?? context.request.headers[HTTPField.Name("Last-Event-ID")!]
                let updates: InboxSubscription
                do {
                    updates = try await engine.inboxUpdates(claims, lastEventID: after)
                } catch {
                    try await outbound.write(.text(Self.errorFrame(error)))
                    return
                }
                try await withGracefulShutdownHandler {
                    try await Self.pump(updates: updates, inbound: inbound, outbound: outbound) { try await perform($0, claims: claims) }
                } onGracefulShutdown: {
                    updates.close()
                }
            })
    }

    /// Sends updates and performs commands until either side ends.
    static func pump(
        updates: InboxSubscription, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        perform: @escaping @Sendable (String) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // WebSocket pings (autoPing) keep the connection alive; heartbeats are for SSE.
                for await update in updates where update.kind != .heartbeat {
                    try await outbound.write(.text(String(decoding: JSONCoding.encode(update), as: UTF8.self)))
                }
            }
            group.addTask {
                for try await message in inbound.messages(maxSize: Self.maxCommandBytes) {
                    guard case .text(let text) = message else {
                        try await outbound.write(.text(Self.errorFrame(HeraldError.invalid("frame", "commands are JSON text frames"))))
                        continue
                    }
                    do {
                        try await perform(text)
                    } catch {
                        try await outbound.write(.text(Self.errorFrame(error)))
                    }
                }
            }
            // Either side ending (the client closed, or the hub dropped a slow connection) ends both.
            try await group.next()
            group.cancelAll()
        }
    }

    private func perform(_ text: String, claims: SubscriberTokens.Claims) async throws {
        let command: InboxCommand
        do {
            command = try JSONCoding.decoder.decode(InboxCommand.self, from: Data(text.utf8))
        } catch {
            throw HeraldError.invalid("type", "each command is a JSON object with type read, archive, read_all or seen")
        }
        switch command.type {
        case "read":
            _ = try await engine.markRead(claims, messageID: try command.requireMessageID())
        case "archive":
            _ = try await engine.archive(claims, messageID: try command.requireMessageID())
        case "read_all":
            _ = try await engine.markAllRead(claims)
        case "seen":
            _ = try await engine.markAllSeen(claims)
        default:
            throw HeraldError.invalid("type", "'\(command.type)' is not a command; use read, archive, read_all or seen")
        }
    }

    /// `{"type":"error","status":422,"detail":…,"errors":[…]}`: the problem a REST call would have got.
    static func errorFrame(_ error: any Error) -> String {
        let problem = ProblemDetails.from(error)
        let frame = ErrorFrame(status: problem.status, detail: problem.detail, errors: problem.errors)
        return String(decoding: JSONCoding.encode(frame), as: UTF8.self)
    }

    struct ErrorFrame: Encodable {
        var type = "error"
        var status: Int
        var detail: String
        var errors: [FieldError]?
    }

    struct InboxCommand: Decodable {
        var type: String
        var message_id: String?

        func requireMessageID() throws -> String {
            guard let id = message_id, !id.isEmpty else { throw HeraldError.invalid("message_id", "is required for \(type)") }
            return id
        }
    }
}
