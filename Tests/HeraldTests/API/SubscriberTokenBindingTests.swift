import AsyncHTTPClient
import Foundation
import Herald
import HeraldServer
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// Issue 15, findings 4 and 8: a preferences-only token reaches preferences and nothing else (WebSocket
/// included), a subscriber token dies with its subscriber, and CORS answers reveal no tenant's origins.
@Suite("Subscriber tokens: scope, lifetime and CORS", .timeLimit(.minutes(2)), .dropsPostgresSchemas)
struct SubscriberTokenBindingTests {
    static func get(_ port: Int, _ path: String, headers: [(String, String)] = [], method: HTTPMethod = .GET) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        } catch {
            Issue.record("\(method) \(path): \(error)")
            throw error
        }
    }

    @Test("the preference page's token opens preferences, and neither the inbox, its stream nor its WebSocket (finding 4)", arguments: StoreBackend.available)
    func preferencesTokenStaysInItsLane(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        try await engine.announce("Private", to: [ids[0]], tenantID: tenant.id)
        let link = AccessFixture.token(in: engine.preferencesURL(tenantID: tenant.id, subscriberID: ids[0]))
        let token = try await engine.openPreferenceLink(link).token
        try await engine.withLiveServer { port in
            #expect(try await Self.get(port, "/v1/inbox/preferences?token=\(token)").0 == 200)
            #expect(try await Self.get(port, "/v1/inbox?token=\(token)").0 == 403)
            #expect(try await Self.get(port, "/v1/inbox/stream?token=\(token)").0 == 403)
            #expect(try await Self.get(port, "/v1/inbox/read-all?token=\(token)", method: .POST).0 == 403)
            let (status, body) = try await Self.get(port, "/v1/inbox", headers: [("Authorization", "Bearer \(token)")])
            #expect(status == 403)
            #expect(body.contains("preferences-only subscriber token may do: preferences"), "\(body)")
            // The WebSocket is refused before it upgrades, so it never replays the inbox or takes read_all.
            #expect(try await Self.get(port, "/v1/inbox/ws?token=\(token)").0 == 403)
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/inbox/ws?token=\(token)", logger: Logger(label: "ws")) {
                    _, outbound, _ in
                    try await outbound.write(.text(#"{"type":"read_all"}"#))
                }
            }
            let claims = try #require(engine.verifySubscriberToken(try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: ids[0]).token))
            #expect(try await engine.eventually { try await engine.inboxCounts(claims).total == 1 })
            #expect(try await engine.inboxCounts(claims).unread == 1, "read_all over the refused socket changed the inbox")
        }
    }

    @Test("a subscriber token stops working when its subscriber is deleted, and does not pass to a new subscriber of the same id (finding 8)", arguments: StoreBackend.available)
    func tokenDiesWithItsSubscriber(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/subscribers/flat-12", auth: tenant.key, json: ["name": "Former resident"])
            let old = try #require(try await api.send(.post, "/v1/subscribers/flat-12/token", auth: tenant.key)["token"]?.stringValue)
            let link = try #require(try await api.send(.get, "/v1/subscribers/flat-12/preferences", auth: tenant.key)["preferences_url"]?.stringValue)
            let oldPreferences = try await engine.openPreferenceLink(AccessFixture.token(in: link)).token
            #expect(try await api.send(.get, "/v1/inbox/count", auth: old).status == .ok)

            #expect(try await api.send(.delete, "/v1/subscribers/flat-12", auth: tenant.key).status == .noContent)
            let deleted = try await api.send(.get, "/v1/inbox/count", auth: old)
            #expect(deleted.status == .unauthorized)
            #expect(deleted["detail"]?.stringValue?.contains("no longer exists") == true)
            #expect(try await api.send(.get, "/v1/inbox/preferences", auth: oldPreferences).status == .unauthorized)

            // A new resident gets the same id; the former resident's tokens stay dead.
            try await Task.sleep(for: .milliseconds(5))
            try await api.send(.put, "/v1/subscribers/flat-12", auth: tenant.key, json: ["name": "New resident"])
            try await api.send(
                .post, "/v1/events", auth: tenant.key,
                json: ["type": "announcement_posted", "recipients": ["flat-12"], "payload": ["title": "Welcome", "excerpt": "x"]])
            #expect(try await api.send(.get, "/v1/inbox", auth: old).status == .unauthorized)
            #expect(try await api.send(.post, "/v1/inbox/read-all", auth: old).status == .unauthorized)
            for token in [old, oldPreferences] {
                #expect(try await api.send(.get, "/v1/inbox/preferences", auth: token).status == .unauthorized)
            }
            let fresh = try #require(try await api.send(.post, "/v1/subscribers/flat-12/token", auth: tenant.key)["token"]?.stringValue)
            #expect(try await engine.eventually { try await api.send(.get, "/v1/inbox/count", auth: fresh)["unread"] == 1 })
        }
    }

    @Test("an open WebSocket's commands are refused once its subscriber is deleted", arguments: StoreBackend.available)
    func webSocketCommandsRecheck(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        let token = try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: ids[0]).token
        try await engine.withLiveServer { port in
            let refusal = Mutex<JSONValue?>(nil)
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/inbox/ws?token=\(token)", logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                var frames = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                _ = try await frames.next()
                try await engine.deleteSubscriber(tenantID: tenant.id, id: ids[0])
                try await outbound.write(.text(#"{"type":"read_all"}"#))
                while let frame = try await frames.next() {
                    guard case .text(let text) = frame, let json = try? JSONValue.parse(text), json["type"] == "error" else { continue }
                    refusal.withLock { $0 = json }
                    break
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(refusal.withLock { $0 }?["status"] == 401)
        }
    }

    @Test("a CORS preflight, and an answer without a valid token, are the same for every origin: no tenant's allowed origins show (finding 8)", arguments: StoreBackend.available)
    func corsRevealsNoOrigins(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let b = try await api.createTenant("B")
            #expect(try await api.send(.put, "/v1/settings/cors", auth: b.key, json: ["allowed_origins": ["https://app.b.example"]]).status == .ok)
            let probe = { (origin: String) async throws -> [String] in
                let preflight = try await api.send(
                    .options, "/v1/inbox/read-all", headers: [.origin: origin, .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization"])
                let unauthorized = try await api.send(.get, "/v1/inbox/count", auth: "bogus", headers: [.origin: origin])
                let fields: [HTTPField.Name] = [.accessControlAllowOrigin, .accessControlAllowMethods, .accessControlAllowHeaders, .accessControlMaxAge]
                return ["\(preflight.status)", "\(unauthorized.status)"]
                    + fields.map { (preflight.headers[$0] ?? "-").replacingOccurrences(of: origin, with: "<origin>") }
                    + [(unauthorized.headers[.accessControlAllowOrigin] ?? "-").replacingOccurrences(of: origin, with: "<origin>")]
            }
            let allowedByB = try await probe("https://app.b.example")
            let allowedByNone = try await probe("https://nobody.example")
            #expect(allowedByB == allowedByNone)
            // What browsers need still works: the preflight lets the real call through with its Authorization header.
            #expect(allowedByB[2] == "<origin>")
            #expect(allowedByB[4].contains("Authorization"))
        }
    }
}
