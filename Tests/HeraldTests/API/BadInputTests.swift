import Foundation
import Herald
import HTTPTypes
import Testing

@Suite("Bad input gets problem+json and writes nothing", .dropsPostgresSchemas)
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequestMethod
        var path: String
        var body: String?
        var auth: Auth
        var status: Int
        /// A field the problem must name (nil: only `body`-level problems).
        var field: String?
        var testDescription: String { name }
    }

    enum Auth: Sendable { case tenant, none, wrong }

    static let trigger =
        #"{"type": "payment_due", "recipients": ["s1"], "payload": {"amount": 120.5, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}}"#

    static let cases: [Case] = [
        Case(
            name: "malformed JSON", method: .post, path: "/v1/events", body: #"{"type": "payment_due", "#, auth: .tenant, status: 400, field: "body"),
        Case(name: "empty body", method: .post, path: "/v1/events", body: "", auth: .tenant, status: 400, field: "body"),
        Case(
            name: "wrong JSON type", method: .post, path: "/v1/events", body: #"{"type": 12, "recipients": []}"#, auth: .tenant, status: 422,
            field: "type"),
        Case(
            name: "missing recipients", method: .post, path: "/v1/events", body: #"{"type": "payment_due"}"#, auth: .tenant, status: 422,
            field: "recipients"),
        Case(
            name: "unknown event type", method: .post, path: "/v1/events", body: #"{"type": "no_such_type", "recipients": ["s1"]}"#, auth: .tenant,
            status: 422, field: "type"),
        Case(
            name: "missing template parameter", method: .post, path: "/v1/events",
            body: #"{"type": "payment_due", "recipients": ["s1"], "payload": {"amount": 1, "currency": "EUR", "unit": "4B"}}"#, auth: .tenant,
            status: 422, field: "payload.due_date"),
        Case(
            name: "undeclared template parameter", method: .post, path: "/v1/events",
            body:
                #"{"type": "payment_due", "recipients": ["s1"], "payload": {"amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B", "surprise": true}}"#,
            auth: .tenant, status: 422, field: "payload.surprise"),
        Case(
            name: "parameter of the wrong type", method: .post, path: "/v1/events",
            body:
                #"{"type": "payment_due", "recipients": ["s1"], "payload": {"amount": "lots", "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}}"#,
            auth: .tenant, status: 422, field: "payload.amount"),
        Case(
            name: "invalid email inline", method: .post, path: "/v1/events",
            body:
                #"{"type": "payment_due", "recipients": [{"id": "new-1", "email": "not-an-address"}], "payload": {"amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}}"#,
            auth: .tenant, status: 422, field: "recipients[0].email"),
        Case(
            name: "invalid time zone inline", method: .post, path: "/v1/events",
            body:
                #"{"type": "payment_due", "recipients": [{"id": "new-2", "timezone": "Mars/Olympus"}], "payload": {"amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}}"#,
            auth: .tenant, status: 422, field: "recipients[0].timezone"),
        Case(
            name: "unknown subscriber with a valid inline one", method: .post, path: "/v1/events",
            body:
                #"{"type": "payment_due", "recipients": [{"id": "new-3", "email": "n3@example.com"}, "ghost"], "payload": {"amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}}"#,
            auth: .tenant, status: 422, field: "recipients[1]"),
        Case(
            name: "unknown topic", method: .post, path: "/v1/events",
            body:
                #"{"type": "payment_due", "recipients": [{"topic": "nobody"}], "payload": {"amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}}"#,
            auth: .tenant, status: 422, field: "recipients[0].topic"),
        Case(
            name: "one bad event in a bulk", method: .post, path: "/v1/events/bulk",
            body: #"{"events": [\#(trigger), {"type": "payment_due", "recipients": ["s1"], "payload": {}}]}"#, auth: .tenant, status: 422,
            field: "events[1].payload.amount"),
        Case(
            name: "invalid email on upsert", method: .put, path: "/v1/subscribers/bad", body: #"{"email": "a@"}"#, auth: .tenant, status: 422,
            field: "email"),
        Case(
            name: "invalid time zone on upsert", method: .put, path: "/v1/subscribers/bad", body: #"{"timezone": "Europe/Atlantis"}"#, auth: .tenant,
            status: 422, field: "timezone"),
        Case(
            name: "template using an undeclared parameter", method: .put, path: "/v1/event-types/door_left_open",
            body:
                #"{"priority": "high", "channels": ["in_app"], "parameters": {"door": {"type": "string"}}, "templates": {"in_app": {"en": {"title": "{{door}} open", "body": "Since {{since}}"}}}}"#,
            auth: .tenant, status: 422, field: "templates.in_app.en.body"),
        Case(
            name: "preference for an unknown channel", method: .put, path: "/v1/subscribers/s1/preferences",
            body: #"{"rules": [{"event_type": "payment_due", "channel": "pigeon", "enabled": false}]}"#, auth: .tenant, status: 422,
            field: "rules[0].channel"),
        Case(name: "unknown tenant key", method: .post, path: "/v1/events", body: trigger, auth: .wrong, status: 401, field: nil),
        Case(name: "no key", method: .post, path: "/v1/events", body: trigger, auth: .none, status: 401, field: nil),
        Case(name: "bad limit", method: .get, path: "/v1/messages?limit=0", body: nil, auth: .tenant, status: 422, field: "limit"),
        Case(name: "bad status filter", method: .get, path: "/v1/messages?status=lost", body: nil, auth: .tenant, status: 422, field: "status"),
        Case(name: "forged cursor", method: .get, path: "/v1/messages?cursor=zzz", body: nil, auth: .tenant, status: 422, field: "cursor"),
        Case(name: "unknown route", method: .get, path: "/v1/nowhere", body: nil, auth: .tenant, status: 404, field: nil),
    ]

    @Test(arguments: cases)
    func rejects(_ testCase: Case) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/subscribers/s1", auth: tenant.key, json: ["email": "s1@example.com"])
            let before = try await Self.snapshot(api, key: tenant.key)

            let auth: String? =
                switch testCase.auth {
                case .tenant: tenant.key
                case .none: nil
                case .wrong: "hk_not-a-real-key"
                }
            let reply = try await api.send(testCase.method.http, testCase.path, auth: auth, raw: testCase.body)
            #expect(reply.status.code == testCase.status, "\(reply.text)")
            #expect(reply.headers[.contentType] == "application/problem+json")
            let problem = try #require(reply.json)
            #expect(problem["status"] == .number(Double(testCase.status)))
            #expect(problem["type"]?.stringValue?.hasPrefix("urn:herald:problem:") == true)
            #expect((problem["detail"]?.stringValue ?? "").isEmpty == false)
            if let field = testCase.field {
                let fields =
                    problem["errors"].map { value -> [String] in
                        guard case .array(let errors) = value else { return [] }
                        return errors.compactMap { $0["field"]?.stringValue }
                    } ?? []
                #expect(fields.contains(field), "problem names \(fields), expected \(field)")
            }
            // The server is still up and nothing was written.
            #expect(try await api.send(.get, "/healthz").status == .ok)
            #expect(try await Self.snapshot(api, key: tenant.key) == before)
        }
    }

    @Test("a body over the size limit gets 413", arguments: StoreBackend.available)
    func bodyTooLarge(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.maxBodyBytes = 4096 }
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let big = #"{"type": "payment_due", "recipients": ["s1"], "payload": {"unit": ""# + String(repeating: "x", count: 10_000) + #""}}"#
            let reply = try await api.send(.post, "/v1/events", auth: tenant.key, raw: big)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.headers[.contentType] == "application/problem+json")
            #expect(try await api.send(.get, "/v1/messages", auth: tenant.key)["data"] == .array([]))
        }
    }

    /// Counts of what a tenant can see, to prove a rejected request changed nothing.
    static func snapshot(_ api: APIClient, key: String) async throws -> [String] {
        [
            try await api.send(.get, "/v1/messages?limit=1000", auth: key).text,
            try await api.send(.get, "/v1/subscribers?limit=1000", auth: key).json.map { value -> String in
                guard case .array(let items)? = value["data"] else { return "" }
                return items.compactMap { $0["id"]?.stringValue }.sorted().joined(separator: ",")
            } ?? "",
            try await api.send(.get, "/v1/topics", auth: key).text,
            try await api.send(.get, "/v1/event-types/door_left_open", auth: key).status.code.description,
            try await api.send(.get, "/v1/subscribers/s1/preferences", auth: key).json?["rules"]?.jsonText() ?? "",
        ]
    }
}
