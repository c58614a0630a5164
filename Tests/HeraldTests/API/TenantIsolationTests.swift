import Foundation
import Herald
import HTTPTypes
import Testing

@Suite("Tenant and subscriber isolation", .dropsPostgresSchemas)
struct TenantIsolationTests {
    @Test("tenant B's key gets 404 for tenant A's events, subscribers, topics and messages", arguments: StoreBackend.available)
    func tenantsAreIsolated(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let a = try await api.createTenant("A")
            let b = try await api.createTenant("B")
            try await api.send(.put, "/v1/subscribers/alice", auth: a.key, json: ["email": "alice@example.com"])
            try await api.send(.put, "/v1/topics/residents", auth: a.key, json: ["name": "Residents"])
            try await api.send(.post, "/v1/topics/residents/subscribers", auth: a.key, json: ["subscribers": ["alice"]])
            let event = try await api.send(
                .post, "/v1/events", auth: a.key,
                json: ["type": "announcement_posted", "recipients": ["alice"], "payload": ["title": "T", "excerpt": "x"]])
            #expect(event.status == .accepted)
            let eventID = try #require(event["event_id"]?.stringValue)
            let messages = try await api.send(.get, "/v1/messages?event=\(eventID)", auth: a.key)
            let messageID = try #require(messages["data"]?.arrayFirst?["id"]?.stringValue)

            for (method, path) in [
                (HTTPRequestMethod.get, "/v1/events/\(eventID)"), (.delete, "/v1/events/\(eventID)"), (.get, "/v1/subscribers/alice"),
                (.get, "/v1/subscribers/alice/preferences"), (.post, "/v1/subscribers/alice/token"), (.delete, "/v1/subscribers/alice"),
                (.get, "/v1/topics/residents"), (.get, "/v1/topics/residents/subscribers"), (.delete, "/v1/topics/residents"),
                (.get, "/v1/messages/\(messageID)"), (.post, "/v1/messages/\(messageID)/retry"),
            ] {
                let reply = try await api.send(method.http, path, auth: b.key)
                #expect(reply.status == .notFound, "\(method) \(path) answered \(reply.status) for another tenant")
                #expect(reply.headers[.contentType] == "application/problem+json")
            }
            let listed = try await api.send(.get, "/v1/messages", auth: b.key)
            #expect(listed["data"] == .array([]))
            // Tenant A still sees everything after B's attempts.
            #expect(try await api.send(.get, "/v1/events/\(eventID)", auth: a.key).status == .ok)
            #expect(try await api.send(.get, "/v1/subscribers/alice", auth: a.key).status == .ok)
        }
    }

    @Test("subscriber X's token cannot read or change Y's inbox", arguments: StoreBackend.available)
    func subscriberTokensAreScoped(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            for id in ["x", "y"] { try await api.send(.put, "/v1/subscribers/\(id)", auth: tenant.key, json: [:]) }
            let event = try await api.send(
                .post, "/v1/events", auth: tenant.key,
                json: ["type": "announcement_posted", "recipients": ["y"], "payload": ["title": "For Y", "excerpt": "x"]])
            let eventID = try #require(event["event_id"]?.stringValue)
            let tokenX = try #require(try await api.send(.post, "/v1/subscribers/x/token", auth: tenant.key)["token"]?.stringValue)
            let tokenY = try #require(try await api.send(.post, "/v1/subscribers/y/token", auth: tenant.key)["token"]?.stringValue)
            #expect(
                try await engine.eventually {
                    try await api.send(.get, "/v1/inbox/count", auth: tokenY)["unread"] == 1
                })
            let yInbox = try await api.send(.get, "/v1/inbox", auth: tokenY)
            let itemID = try #require(yInbox["data"]?.arrayFirst?["id"]?.stringValue)

            #expect(try await api.send(.get, "/v1/inbox", auth: tokenX)["data"] == .array([]))
            #expect(try await api.send(.get, "/v1/inbox/count", auth: tokenX)["unread"] == 0)
            #expect(try await api.send(.post, "/v1/inbox/\(itemID)/read", auth: tokenX).status == .notFound)
            #expect(try await api.send(.post, "/v1/inbox/\(itemID)/archive", auth: tokenX).status == .notFound)
            try await api.send(.post, "/v1/inbox/read-all", auth: tokenX)
            #expect(try await api.send(.get, "/v1/inbox/count", auth: tokenY)["unread"] == 1, "X's read-all changed Y's inbox")

            // A tampered token (Y's claims, X's signature) is refused on the inbox (401), and an API key does not
            // reach it (403: a valid credential of a kind without inbox scopes).
            let forged = tokenY.split(separator: ".")[0] + "." + tokenX.split(separator: ".")[1]
            #expect(try await api.send(.get, "/v1/inbox", auth: String(forged)).status == .unauthorized)
            #expect(try await api.send(.get, "/v1/inbox", auth: tenant.key).status == .forbidden)
            // And a subscriber token is not an API key.
            #expect(try await api.send(.get, "/v1/events/\(eventID)", auth: tokenY).status == .forbidden)

            // Y reads its own message; counts follow.
            let afterRead = try await api.send(.post, "/v1/inbox/\(itemID)/read", auth: tokenY)
            #expect(afterRead["unread"] == 0)
            #expect(try await api.send(.get, "/v1/inbox?filter=read", auth: tokenY)["data"]?.arrayFirst?["id"]?.stringValue == itemID)
            try await api.send(.post, "/v1/inbox/\(itemID)/archive", auth: tokenY)
            #expect(try await api.send(.get, "/v1/inbox", auth: tokenY)["data"] == .array([]))
            #expect(try await api.send(.get, "/v1/inbox?filter=archived", auth: tokenY)["data"]?.arrayFirst?["id"]?.stringValue == itemID)
        }
    }

    @Test("a revoked API key stops working at once", arguments: StoreBackend.available)
    func keyRevocation(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let second = try await api.send(.post, "/v1/api-keys", auth: tenant.key, json: ["name": "ci"])
            #expect(second.status == .created)
            let key = try #require(second["key"]?.stringValue)
            let keyID = try #require(second["id"]?.stringValue)
            #expect(try await api.send(.get, "/v1/tenant", auth: key).status == .ok)
            #expect(try await api.send(.delete, "/v1/api-keys/\(keyID)", auth: tenant.key).status == .noContent)
            #expect(try await api.send(.get, "/v1/tenant", auth: key).status == .unauthorized)
            #expect(try await api.send(.get, "/v1/tenant", auth: tenant.key).status == .ok)
            let keys = try await api.send(.get, "/v1/api-keys", auth: tenant.key)
            #expect(!keys.text.contains(key), "a listed key must never include its secret")
        }
    }
}

/// `HTTPRequest.Method` is not `Sendable`-friendly in tuples across the test macro; this mirrors it.
enum HTTPRequestMethod {
    case get, put, post, patch, delete
    var http: HTTPRequest.Method {
        switch self {
        case .get: .get
        case .put: .put
        case .post: .post
        case .patch: .patch
        case .delete: .delete
        }
    }
}

extension JSONValue {
    var arrayFirst: JSONValue? {
        if case .array(let values) = self { return values.first }
        return nil
    }
    var arrayCount: Int? {
        if case .array(let values) = self { return values.count }
        return nil
    }
    var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}

extension JSONValue {
    /// The elements of an array, or none.
    var arrayElements: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}
