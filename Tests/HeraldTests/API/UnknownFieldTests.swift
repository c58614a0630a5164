import Foundation
import Herald
import HTTPTypes
import Testing

/// An unknown field in a request body or in `herald.yml` is refused by name, never silently ignored: a
/// misspelt or not-yet-supported `workflow`, `dkim` or `attachments` used to be accepted and dropped (a workflow step's
/// misspelt key still is refused).
/// Documents Herald stored itself stay lenient.
@Suite("Unknown fields are refused by name", .dropsPostgresSchemas)
struct UnknownFieldTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequest.Method
        var path: String
        var body: String
        /// Every field the problem must name.
        var fields: [String]
        var auth: Auth = .tenant
        /// A read whose answer must not change (nothing stored).
        var check: String? = nil
        var testDescription: String { name }
    }

    enum Auth: Sendable { case tenant, admin, subscriberToken }

    static let payload = #"{"amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"}"#
    static let trigger = #"{"type": "payment_due", "recipients": ["s1"], "payload": \#(payload)}"#
    static let eventType = #""priority": "high", "channels": ["in_app"], "templates": {"in_app": {"en": {"title": "Open", "body": "Door"}}}"#

    /// Each body has its unknown fields in one object: decoding stops at the first object that has any,
    /// and names every unknown field of that object.
    static let cases: [Case] = [
        // Settings documents.
        Case(
            name: "email settings: dmarc", method: .put, path: "/v1/settings/email",
            body: #"{"from_address": "a@b.example", "dkim": {"selector": "s1", "generate": true}, "dmarc": "p=none"}"#, fields: ["dmarc"],
            check: "/v1/settings/email"),
        Case(
            name: "email settings: dkim.bits", method: .put, path: "/v1/settings/email",
            body: #"{"from_address": "a@b.example", "dkim": {"selector": "s1", "generate": true, "bits": 4096}}"#, fields: ["dkim.bits"],
            check: "/v1/settings/email"),
        Case(
            name: "email settings: smtp.hots", method: .put, path: "/v1/settings/email",
            body: #"{"from_address": "a@b.example", "smtp": {"host": "smtp.example.com", "hots": "x"}}"#, fields: ["smtp.hots"],
            check: "/v1/settings/email"),
        Case(
            name: "email settings: smtp_fallback.pasword", method: .put, path: "/v1/settings/email",
            body: #"{"smtp": {"host": "a.example.com"}, "smtp_fallback": {"host": "b.example.com", "pasword": "x"}}"#,
            fields: ["smtp_fallback.pasword"], check: "/v1/settings/email"),
        Case(
            name: "email settings: layout.brand_colour", method: .put, path: "/v1/settings/email",
            body: #"{"layout": {"brand_colour": "blue"}}"#, fields: ["layout.brand_colour"], check: "/v1/settings/email"),
        Case(
            name: "SMS settings: sender", method: .put, path: "/v1/settings/sms", body: #"{"sender": "x", "providers": []}"#, fields: ["sender"],
            check: "/v1/settings/sms"),
        Case(
            name: "SMS settings: providers[0].acount_sid", method: .put, path: "/v1/settings/sms",
            body: #"{"providers": [{"type": "json", "url": "https://sms.example.com/send", "acount_sid": "AC1"}]}"#,
            fields: ["providers[0].acount_sid"], check: "/v1/settings/sms"),
        Case(
            name: "chat settings: channel", method: .put, path: "/v1/settings/chat", body: #"{"channel": "general", "webhooks": []}"#, fields: ["channel"],
            check: "/v1/settings/chat"),
        Case(
            name: "chat settings: webhooks[0].uri", method: .put, path: "/v1/settings/chat",
            body: #"{"webhooks": [{"url": "https://hooks.slack.com/services/T/B/C", "uri": "x"}]}"#, fields: ["webhooks[0].uri"],
            check: "/v1/settings/chat"),
        Case(
            name: "webhook settings: retries", method: .put, path: "/v1/settings/webhook", body: #"{"retries": 3, "endpoints": []}"#,
            fields: ["retries"], check: "/v1/settings/webhook"),
        Case(
            name: "webhook settings: status_endpoints[0].secret", method: .put, path: "/v1/settings/webhook",
            body: #"{"status_endpoints": [{"url": "https://hooks.example.com/in", "secret": "x"}]}"#, fields: ["status_endpoints[0].secret"],
            check: "/v1/settings/webhook"),
        Case(
            name: "CORS settings: allowed_methods", method: .put, path: "/v1/settings/cors",
            body: #"{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET"]}"#, fields: ["allowed_methods"],
            check: "/v1/settings/cors"),
        Case(
            name: "rate limits: per_minute", method: .put, path: "/v1/settings/rate-limits", body: #"{"per_minute": 5}"#, fields: ["per_minute"],
            check: "/v1/settings/rate-limits"),
        Case(
            name: "rate limits: per_channel.email.burst", method: .put, path: "/v1/settings/rate-limits",
            body: #"{"per_channel": {"email": {"limit": 5, "period": "1h", "burst": 2}}}"#, fields: ["per_channel.email.burst"],
            check: "/v1/settings/rate-limits"),
        // The catalog.
        Case(
            name: "event type: workflow", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "workflow": [{"send": "email", "step": 2}]}"#, fields: ["workflow[0].step"],
            check: "/v1/event-types/door_left_open"),
        Case(
            name: "event type: parameters.door.format", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "parameters": {"door": {"type": "string", "format": "x"}}}"#, fields: ["parameters.door.format"],
            check: "/v1/event-types/door_left_open"),
        Case(
            name: "event type: dedup.key", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "dedup": {"window": "1h", "key": "door"}}"#, fields: ["dedup.key"], check: "/v1/event-types/door_left_open"),
        Case(
            name: "event type: digest.windows", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "digest": {"windows": "1h"}}"#, fields: ["digest.windows"], check: "/v1/event-types/door_left_open"),
        Case(
            name: "event type: rate_limit.per", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "rate_limit": {"limit": 1, "period": "1h", "per": "x"}}"#, fields: ["rate_limit.per"],
            check: "/v1/event-types/door_left_open"),
        Case(
            name: "event type: audience.topic", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "audience": {"topic": "x"}}"#, fields: ["audience.topic"], check: "/v1/event-types/door_left_open"),
        Case(
            name: "event type: attachments[0].url_path", method: .put, path: "/v1/event-types/door_left_open",
            body: #"{\#(eventType), "attachments": [{"filename": "a.pdf", "url_path": "x"}]}"#, fields: ["attachments[0].url_path"],
            check: "/v1/event-types/door_left_open"),
        Case(
            name: "preview: subscriber", method: .post, path: "/v1/event-types/payment_due/preview", body: #"{"subscriber": "s1"}"#,
            fields: ["subscriber"]),
        Case(
            name: "preview: event_type.workflow", method: .post, path: "/v1/event-types/payment_due/preview",
            body: #"{"event_type": {\#(eventType), "workflow": [{"sned": "email"}]}}"#, fields: ["event_type.workflow[0].sned"]),
        Case(
            name: "workflow preview: assume", method: .post, path: "/v1/event-types/payment_due/workflow/preview",
            body: #"{"payload": {}, "assume": true}"#, fields: ["assume"]),
        Case(
            name: "test send: cc", method: .post, path: "/v1/event-types/payment_due/test", body: #"{"to": "a@b.example", "cc": "c@b.example"}"#,
            fields: ["cc"]),
        // Triggers.
        Case(
            name: "trigger: attachments[0].name", method: .post, path: "/v1/events",
            body: #"{"type": "payment_due", "recipients": ["s1"], "payload": \#(payload), "attachments": [{"filename": "a.pdf", "name": "a.pdf"}]}"#,
            fields: ["attachments[0].name"]),
        Case(
            name: "trigger: inline recipient's nickname", method: .post, path: "/v1/events",
            body: #"{"type": "payment_due", "payload": \#(payload), "recipients": ["s1", {"id": "new-1", "nickname": "x"}]}"#,
            fields: ["recipients[1].nickname"]),
        Case(
            name: "trigger: inline recipient's quiet_hours.zone", method: .post, path: "/v1/events",
            body: #"{"type": "payment_due", "payload": \#(payload), "recipients": [{"id": "new-2", "quiet_hours": {"start": "22:00", "end": "07:00", "zone": "x"}}]}"#,
            fields: ["recipients[0].quiet_hours.zone"]),
        Case(
            name: "trigger: a topic recipient's filter", method: .post, path: "/v1/events",
            body: #"{"type": "payment_due", "payload": \#(payload), "recipients": [{"topic": "t", "filter": 1}]}"#, fields: ["recipients[0].filter"]),
        Case(
            name: "trigger: a subscriber reference's email", method: .post, path: "/v1/events",
            body: #"{"type": "payment_due", "payload": \#(payload), "recipients": [{"subscriber_id": "s1", "email": "x@example.com"}]}"#,
            fields: ["recipients[0].email"]),
        Case(
            name: "bulk trigger: mode", method: .post, path: "/v1/events/bulk", body: #"{"mode": "all", "events": [\#(trigger)]}"#, fields: ["mode"]),
        Case(
            name: "bulk trigger: events[1].attachments[0].size", method: .post, path: "/v1/events/bulk",
            body: #"{"events": [\#(trigger), {"type": "payment_due", "recipients": ["s1"], "attachments": [{"filename": "a.pdf", "size": 1}]}]}"#,
            fields: ["events[1].attachments[0].size"]),
        Case(name: "cancel: reason", method: .post, path: "/v1/events/cancel", body: #"{"cancellation_key": "k", "reason": "paid"}"#, fields: ["reason"]),
        Case(
            name: "schedule: retries", method: .post, path: "/v1/schedules",
            body: #"{"cron": "0 8 * * *", "retries": 1, "trigger": \#(trigger)}"#, fields: ["retries"], check: "/v1/schedules"),
        Case(
            name: "schedule: trigger.attachments[0].bytes", method: .post, path: "/v1/schedules",
            body: #"{"cron": "0 8 * * *", "trigger": {"type": "payment_due", "recipients": ["s1"], "#
                + #""attachments": [{"filename": "a.pdf", "bytes": "x"}]}}"#,
            fields: ["trigger.attachments[0].bytes"], check: "/v1/schedules"),
        // Subscribers, topics, preferences.
        Case(
            name: "subscriber: nickname", method: .put, path: "/v1/subscribers/s1", body: #"{"email": "new@example.com", "nickname": "x"}"#,
            fields: ["nickname"], check: "/v1/subscribers/s1"),
        Case(
            name: "subscriber: quiet_hours.tz", method: .put, path: "/v1/subscribers/s1",
            body: #"{"email": "new@example.com", "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "UTC"}}"#, fields: ["quiet_hours.tz"],
            check: "/v1/subscribers/s1"),
        Case(
            name: "bulk subscribers: upsert", method: .post, path: "/v1/subscribers/bulk", body: #"{"upsert": true, "subscribers": [{"id": "b1"}]}"#,
            fields: ["upsert"]),
        Case(
            name: "bulk subscribers: subscribers[0].nickname", method: .post, path: "/v1/subscribers/bulk",
            body: #"{"subscribers": [{"id": "b1", "nickname": "x"}]}"#, fields: ["subscribers[0].nickname"]),
        Case(
            name: "preferences: replace", method: .put, path: "/v1/subscribers/s1/preferences",
            body: #"{"replace": true, "rules": [{"channel": "email", "enabled": false}]}"#, fields: ["replace"]),
        Case(
            name: "preferences: rules[0].priority", method: .put, path: "/v1/subscribers/s1/preferences",
            body: #"{"rules": [{"channel": "email", "enabled": false, "priority": "low"}]}"#, fields: ["rules[0].priority"]),
        Case(
            name: "preferences as an array: [0].digest.windows", method: .patch, path: "/v1/subscribers/s1/preferences",
            body: #"[{"channel": "email", "enabled": false, "digest": {"windows": "1h"}}]"#, fields: ["[0].digest.windows"]),
        Case(
            name: "tenant preference defaults: one rule with chanel", method: .put, path: "/v1/preferences/defaults",
            body: #"{"chanel": "email", "enabled": false}"#, fields: ["chanel"], check: "/v1/preferences/defaults"),
        Case(
            name: "inbox preferences: language", method: .put, path: "/v1/inbox/preferences", body: #"{"language": "fr"}"#, fields: ["language"],
            auth: .subscriberToken),
        Case(
            name: "inbox preferences: quiet_hours.zone", method: .put, path: "/v1/inbox/preferences",
            body: #"{"quiet_hours": {"start": "22:00", "end": "07:00", "zone": "x"}}"#, fields: ["quiet_hours.zone"], auth: .subscriberToken),
        Case(name: "topic: description", method: .put, path: "/v1/topics/residents", body: #"{"name": "R", "description": "x"}"#, fields: ["description"]),
        Case(
            name: "topic members: notify", method: .post, path: "/v1/topics/residents/subscribers",
            body: #"{"notify": true, "subscribers": ["s1"]}"#, fields: ["notify"]),
        Case(
            name: "topic members: subscribers[0].nickname", method: .post, path: "/v1/topics/residents/subscribers",
            body: #"{"subscribers": [{"id": "m1", "nickname": "x"}]}"#, fields: ["subscribers[0].nickname"]),
        Case(
            name: "topic members to remove: force", method: .delete, path: "/v1/topics/residents/subscribers",
            body: #"{"subscribers": ["s1"], "force": true}"#, fields: ["force"]),
        // Tokens and tenants.
        Case(
            name: "subscriber token: scope", method: .post, path: "/v1/subscribers/s1/token", body: #"{"ttl_seconds": 60, "scope": "all"}"#,
            fields: ["scope"]),
        Case(
            name: "API key: scopes", method: .post, path: "/v1/api-keys", body: #"{"name": "ci", "scopes": ["events"]}"#, fields: ["scopes"],
            check: "/v1/api-keys"),
        Case(name: "tenant: plan", method: .post, path: "/v1/tenants", body: #"{"name": "B", "plan": "gold"}"#, fields: ["plan"], auth: .admin),
    ]

    @Test(arguments: cases)
    func refused(_ testCase: Case) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/subscribers/s1", auth: tenant.key, json: ["email": "s1@example.com"])
            let auth: String
            switch testCase.auth {
            case .tenant: auth = tenant.key
            case .admin: auth = "test-admin-key"
            case .subscriberToken:
                auth = try #require(try await api.send(.post, "/v1/subscribers/s1/token", auth: tenant.key, json: [:])["token"]?.stringValue)
            }
            let before = try await Self.snapshot(api, key: tenant.key, check: testCase.check)

            let reply = try await api.send(testCase.method, testCase.path, auth: auth, raw: testCase.body)
            #expect(reply.status == .unprocessableContent, "\(reply.text)")
            #expect(reply.headers[.contentType] == "application/problem+json")
            let errors: [JSONValue]
            if case .array(let items)? = reply["errors"] { errors = items } else { errors = [] }
            let named = errors.compactMap { $0["field"]?.stringValue }
            #expect(Set(named) == Set(testCase.fields), "problem names \(named), expected \(testCase.fields)")
            for error in errors {
                #expect(error["reason"]?.stringValue?.hasPrefix("is not a known field") == true, "\(error.jsonText())")
            }
            #expect(try await Self.snapshot(api, key: tenant.key, check: testCase.check) == before)
        }
    }

    /// What a tenant can see, to prove a refused request changed nothing.
    static func snapshot(_ api: APIClient, key: String, check: String?) async throws -> [String] {
        var reads = [
            try await api.send(.get, "/v1/messages?limit=1000", auth: key).text,
            try await api.send(.get, "/v1/subscribers?limit=1000", auth: key).text,
            try await api.send(.get, "/v1/topics", auth: key).text,
            try await api.send(.get, "/v1/tenants", auth: "test-admin-key").text,
        ]
        if let check { reads.append(try await api.send(.get, check, auth: key).text) }
        return reads
    }

    /// The same bodies without the unknown fields are accepted, so the refusals above are about the
    /// fields alone (a guard against a table of bodies that fail for some other reason).
    @Test("a body with only known fields is accepted")
    func knownFieldsAccepted() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/subscribers/s1", auth: tenant.key, json: ["email": "s1@example.com"])
            let accepted: [(HTTPRequest.Method, String, String)] = [
                (.put, "/v1/settings/email", #"{"from_address": "a@b.example", "layout": {"header_html": "<b>Maple Court</b>"}}"#),
                (.put, "/v1/event-types/door_left_open", #"{\#(Self.eventType), "dedup": {"window": "1h"}, "audience": {"topics": ["t"]}}"#),
                (.post, "/v1/events", #"{"type": "payment_due", "recipients": ["s1", {"subscriber_id": "s1"}], "payload": \#(Self.payload)}"#),
                (.put, "/v1/subscribers/s2", #"{"email": "s2@example.com", "quiet_hours": {"start": "22:00", "end": "07:00"}}"#),
                (.put, "/v1/subscribers/s1/preferences", #"[{"channel": "email", "enabled": false}]"#),
            ]
            for (method, path, body) in accepted {
                let reply = try await api.send(method, path, auth: tenant.key, raw: body)
                #expect(reply.status.code < 300, "\(path): \(reply.text)")
            }
        }
    }

    @Test("a settings document Herald stored with a field it no longer knows still loads")
    func storedSettingsStayLenient() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let stored = ##"{"from_address": "a@b.example", "dkim": {"selector": "s1"}, "layout": {"brand_color": "#0b5cad", "banner": "x"}}"##
            try await engine.store.putTenantSetting(tenantID: tenant.id, key: "email", value: stored)
            let reply = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply["from_address"]?.stringValue == "a@b.example")
        }
    }

    struct FileCase: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var keys: [String]
        var testDescription: String { name }
    }

    static let fileCases: [FileCase] = [
        FileCase(name: "top level", yaml: "workflows: []\n", keys: ["workflows"]),
        FileCase(name: "server", yaml: "server:\n  host: 127.0.0.1\n  prot: 80\n", keys: ["server.prot"]),
        FileCase(name: "email.smtp", yaml: "email:\n  smtp:\n    host: smtp.example.com\n    hots: x\n", keys: ["email.smtp.hots"]),
        FileCase(name: "email", yaml: "email:\n  dkim:\n    selector: s1\n", keys: ["email.dkim"]),
        FileCase(name: "dispatch (numbers only)", yaml: "dispatch:\n  lease_secs: 30\n", keys: ["dispatch.lease_secs"]),
        FileCase(name: "outbound", yaml: "outbound:\n  allowed_host: [a]\n", keys: ["outbound.allowed_host"]),
        FileCase(
            name: "sms provider", yaml: "sms:\n  providers:\n    - type: json\n      url: https://x.example\n      token: t\n",
            keys: ["sms.providers[0].token"]),
        FileCase(
            name: "rate limits", yaml: "rate_limits:\n  per_tenant:\n    limit: 5\n    period: 1h\n    burst: 1\n",
            keys: ["rate_limits.per_tenant.burst"]),
        FileCase(
            name: "event type", yaml: "event_types:\n  - key: a\n    priority: low\n    channels: [in_app]\n    workflow: [{send: in_app, mood: all}]\n",
            keys: ["event_types[0].workflow[0].mood"]),
    ]

    @Test(arguments: fileCases)
    func configurationFileRefusesUnknownKeys(_ testCase: FileCase) throws {
        let path = TestEngine.temporaryDirectory().appendingPathComponent("herald.yml").path
        try testCase.yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: ConfigurationError.self) { try HeraldConfiguration.load(file: path, environment: [:]) }
        for key in testCase.keys {
            #expect(error.description.contains("\(path): \(key): is not a known field"), "\(error.description)")
        }
    }

    @Test("the known numeric keys of every section still load")
    func configurationFileAcceptsNumberKeys() throws {
        let path = TestEngine.temporaryDirectory().appendingPathComponent("herald.yml").path
        let yaml = """
            server: {port: 8081, max_connections: 100}
            retention_days: 30
            dispatch: {lease_seconds: 20, workers: 3}
            api_limits: {tenant_burst: 10}
            email: {smtp: {host: smtp.example.com, port: 2525, timeout_seconds: 5}}
            sms: {max_segments: 3}
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try HeraldConfiguration.load(file: path, environment: [:])
        #expect(configuration.port == 8081)
        #expect(configuration.dispatch.workers == 3)
        #expect(configuration.email.smtp?.port == 2525)
    }
}
