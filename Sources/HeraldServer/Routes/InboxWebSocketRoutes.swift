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
/// Opening needs `inboxRead` (``upgradeNeeds``) and each command declares its scope (``Command/needs``),
/// checked by the same ``Authenticator`` as every HTTP route, so a preferences-only token never upgrades.
struct InboxWebSocketRoutes {
    let engine: HeraldEngine
    var authenticator: Authenticator { Authenticator(engine: engine) }

    /// Largest command frame accepted.
    static let maxCommandBytes = 4096
    /// What opening the connection needs: it replays the inbox and streams every change.
    static let upgradeNeeds: AccessScope = .inboxRead

    func register(on router: Router<HeraldWebSocketContext>) {
        router.ws(
            "v1/inbox/ws",
            shouldUpgrade: { request, _ in
                // Hummingbird answers any refused upgrade with an empty 400 and closes; the same URL without
                // `Upgrade` reaches the HTTP route of the same requirement, whose 401 or 403 says why.
                guard (try? await authenticator.authorize(request, needs: Self.upgradeNeeds)) != nil else { return .dontUpgrade }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                // The upgrade was authorized a moment ago; its principal cannot be handed over, so resolve it
                // again (without spending the request budget twice) and check it on every command.
                guard let principal = try? await authenticator.principal(of: context.request, needs: Self.upgradeNeeds),
                    let claims = principal.subscriber
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
                    try await Self.pump(updates: updates, inbound: inbound, outbound: outbound) { try await perform($0, principal: principal, claims: claims) }
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

    /// Performs one command after the same access check as an HTTP route: the command's declared scope
    /// against the connection's token, which must still belong to an existing subscriber.
    private func perform(_ text: String, principal: Principal, claims: SubscriberTokens.Claims) async throws {
        let command: InboxCommand
        do {
            command = try JSONCoding.decoder.decode(InboxCommand.self, from: Data(text.utf8))
        } catch {
            throw HeraldError.invalid("type", "each command is a JSON object with type \(Command.list)")
        }
        guard let kind = Command(rawValue: command.type) else {
            throw HeraldError.invalid("type", "'\(command.type)' is not a command; use \(Command.list)")
        }
        try await authenticator.authorize(principal, needs: kind.needs)
        switch kind {
        case .read:
            _ = try await engine.markRead(claims, messageID: try command.requireMessageID())
        case .archive:
            _ = try await engine.archive(claims, messageID: try command.requireMessageID())
        case .readAll:
            _ = try await engine.markAllRead(claims)
        case .seen:
            _ = try await engine.markAllSeen(claims)
        case .click:
            _ = try await engine.markClicked(claims, messageID: try command.requireMessageID())
        }
    }

    /// The commands a client may send, each with the scope it needs.
    enum Command: String, CaseIterable, Sendable {
        case read
        case archive
        case readAll = "read_all"
        case seen
        case click

        var needs: AccessScope {
            switch self {
            case .read, .archive, .readAll, .seen, .click: .inboxWrite
            }
        }

        static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }
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
