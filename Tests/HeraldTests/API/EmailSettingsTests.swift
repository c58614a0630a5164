import Foundation
import Herald
import HeraldServer
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite("Tenant email settings over HTTP", .dropsPostgresSchemas)
struct EmailSettingsTests {
    static let password = "pw-Zq81-never-shown-Kd22"

    static let fullSettings: JSONValue = [
        "from_address": "notices@maplecourt.example",
        "from_name": "Maple Court",
        "reply_to": "office@maplecourt.example",
        "smtp": [
            "host": "smtp.maplecourt.example", "port": 2525, "security": "tls", "username": "notices", "password": .string(password),
        ],
        "layout": ["brand_color": "#0b5cad", "footer_html": "<p>Maple Court</p>", "logo_url": "https://maplecourt.example/logo.png"],
        "allowed_recipient_domains": ["maplecourt.example", "residents.example"],
        "unsubscribe_mailto": "unsubscribe@maplecourt.example",
    ]

    @Test("PUT stores every field and GET reads it back, with the effective sender and transport", arguments: StoreBackend.available)
    func roundTrip(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Maple Court")
            let put = try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: Self.fullSettings)
            #expect(put.status == .ok)
            #expect(put.headers[.contentType] == "application/json")
            let get = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(get.status == .ok)
            #expect(get.json == put.json)

            #expect(get["from_address"] == "notices@maplecourt.example")
            #expect(get["from_name"] == "Maple Court")
            #expect(get["reply_to"] == "office@maplecourt.example")
            #expect(get["smtp"]?["host"] == "smtp.maplecourt.example")
            #expect(get["smtp"]?["port"] == 2525)
            #expect(get["smtp"]?["security"] == "tls")
            #expect(get["smtp"]?["username"] == "notices")
            #expect(get["layout"]?["brand_color"] == "#0b5cad")
            #expect(get["allowed_recipient_domains"] == ["maplecourt.example", "residents.example"])
            #expect(get["unsubscribe_mailto"] == "unsubscribe@maplecourt.example")

            let effective = try #require(get["effective"])
            #expect(effective["from_address"] == "notices@maplecourt.example")
            #expect(effective["from_name"] == "Maple Court")
            #expect(effective["reply_to"] == "office@maplecourt.example")
            #expect(effective["transport"] == "smtp")
            #expect(effective["smtp"] == ["host": "smtp.maplecourt.example", "port": 2525, "security": "tls", "source": "tenant"])

            // The engine holds the real password; the API never showed it.
            #expect(try await engine.emailSettings(tenantID: tenant.id).smtp?.password == Self.password)
        }
    }

    @Test("the password is shown as ******** and sending that placeholder back keeps the stored one", arguments: StoreBackend.available)
    func redaction(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let put = try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: Self.fullSettings)
            #expect(put["smtp"]?["password"] == "********")
            let read = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(read["smtp"]?["password"] == "********")

            // A settings page sends back what it read, effective object included, with one change.
            var echoed = try #require(read.json)
            if case .object(var fields) = echoed { fields["from_name"] = "Maple Court Office"; echoed = .object(fields) }
            let again = try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: echoed)
            #expect(again.status == .ok)
            #expect(again["from_name"] == "Maple Court Office")
            #expect(again["smtp"]?["password"] == "********")
            #expect(try await engine.emailSettings(tenantID: tenant.id).smtp?.password == Self.password)

            // Without a password there is nothing to hide, and no placeholder.
            let plain = try await api.send(
                .put, "/v1/settings/email", auth: tenant.key, json: ["smtp": ["host": "relay.example", "security": "starttls"]])
            #expect(plain.status == .ok)
            #expect(plain["smtp"]?["password"] == nil)
            #expect(plain["smtp"]?["port"] == 587)
        }
    }

    @Test("no answer and no log line ever carries the SMTP password, even when sending through that server fails")
    func credentialsNeverLeak() async throws {
        let recorder = LogRecorder()
        var logger = Logger(label: "herald-credentials-test") { _ in RecordingLogHandler(recorder: recorder) }
        logger.logLevel = .trace
        var configuration = try TestEngine.configuration()
        // The tenant's server below is on loopback, which the destination policy refuses unless the operator allows it.
        configuration.outbound.allowedHosts = ["127.0.0.1"]
        let engine = try await HeraldEngine(configuration: configuration, logger: logger)
        let app = Application(router: HeraldServer.router(engine: engine), logger: logger)
        let bodies = Bodies()

        // The tenant's server refuses connections (nothing listens on port 1), so the email channel has a failure to log.
        func with(_ key: String, _ value: JSONValue) -> JSONValue {
            guard case .object(var fields) = Self.fullSettings else { return Self.fullSettings }
            fields[key] = value
            return .object(fields)
        }
        let unreachable = with(
            "smtp", ["host": "127.0.0.1", "port": 1, "security": "tls", "username": "notices", "password": .string(Self.password)])
        let badDomain = with("allowed_recipient_domains", ["ok.example", "not a domain"])
        let badPort = with("smtp", ["host": "smtp.example", "port": "not a number", "username": "u", "password": .string(Self.password)])

        try await engine.whileRunning {
            try await app.test(.router) { client in
                let api = APIClient(client: client)
                let tenant = try await api.createTenant("A")
                var replies = [
                    try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: unreachable),
                    try await api.send(.get, "/v1/settings/email", auth: tenant.key),
                    try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@maplecourt.example"]),
                    try await api.send(
                        .post, "/v1/events", auth: tenant.key,
                        json: ["type": "announcement_posted", "recipients": ["alice"], "payload": ["title": "T", "excerpt": "x"]]),
                ]
                let eventID = try #require(replies.last?["event_id"]?.stringValue)
                let attempted = try await engine.eventually {
                    guard
                        let id = try await api.send(.get, "/v1/messages?event=\(eventID)&channel=email", auth: tenant.key)["data"]?.arrayFirst?["id"]
                    else { return false }
                    let detail = try await api.send(.get, "/v1/messages/\(id.stringValue ?? "")", auth: tenant.key)
                    return (detail["attempt_log"]?.arrayCount ?? 0) > 0 || detail["last_error"]?.stringValue != nil
                }
                #expect(attempted, "the email channel never tried the tenant's server")
                let messages = try await api.send(.get, "/v1/messages?event=\(eventID)", auth: tenant.key)
                replies.append(messages)
                guard case .array(let items)? = messages["data"] else {
                    Issue.record("no messages: \(messages.text)")
                    return
                }
                for id in items.compactMap({ $0["id"]?.stringValue }) {
                    replies.append(try await api.send(.get, "/v1/messages/\(id)", auth: tenant.key))
                }
                // The engine logs little on the happy path; an unsubscribe is one thing it does log.
                let unsubscribe = engine.unsubscribeURL(tenantID: tenant.id, subscriberID: "alice", eventType: "newsletter")
                replies.append(try await api.send(.get, String(unsubscribe.dropFirst(engine.configuration.publicBaseURL.count))))
                replies += [
                    try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: badDomain),
                    try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: badPort),
                    try await api.send(.put, "/v1/settings/email", auth: "hk_wrong", json: Self.fullSettings),
                    try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: Self.fullSettings),
                    try await api.send(.get, "/v1/settings/email", auth: tenant.key),
                    try await api.send(.get, "/openapi.json"),
                    try await api.send(.delete, "/v1/settings/email", auth: tenant.key),
                    try await api.send(.get, "/v1/settings/email", auth: tenant.key),
                ]
                #expect(replies.prefix(4).map(\.status.code) == [200, 200, 201, 202])
                #expect(replies.suffix(8).map(\.status.code) == [422, 422, 401, 200, 200, 200, 204, 200])
                for reply in replies { bodies.append(reply.text) }
            }
        }
        for body in bodies.all { #expect(!body.contains(Self.password), "an answer carried the SMTP password: \(body.prefix(300))") }
        #expect(recorder.lines.contains { $0.contains("unsubscribed from email") }, "the test should see the engine's log")
        for line in recorder.lines { #expect(!line.contains(Self.password), "a log line carried the SMTP password: \(line)") }

        // Describing the settings in a log message is safe too.
        let withPassword = EmailSettings(smtp: SMTPServerConfiguration(host: "smtp.example", username: "u", password: Self.password))
        #expect(!"\(withPassword)".contains(Self.password))
        #expect(!"\(withPassword.redacted)".contains(Self.password))
    }

    @Test("bad settings answer 422 naming every bad field, and nothing is stored", arguments: StoreBackend.available)
    func validation(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: ["from_address": "good@example.com"])
            let bad = try await api.send(
                .put, "/v1/settings/email", auth: tenant.key,
                json: [
                    "from_address": "not-an-address",
                    "from_name": "Line\nbreak",
                    "smtp": ["host": "smtp.example", "port": 70000, "username": "u"],
                    "layout": ["brand_color": "blue", "logo_url": "ftp://x.example/logo.png"],
                    "allowed_recipient_domains": ["ok.example", "bad domain", "@x.example"],
                ])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.headers[.contentType] == "application/problem+json")
            guard case .array(let errors)? = bad["errors"] else {
                Issue.record("no errors list: \(bad.text)")
                return
            }
            let fields = Set(errors.compactMap { $0["field"]?.stringValue })
            let expected: Set<String> = [
                "from_address", "from_name", "smtp.port", "smtp.password", "layout.brand_color", "layout.logo_url",
                "allowed_recipient_domains[1]", "allowed_recipient_domains[2]",
            ]
            #expect(fields == expected)
            #expect(!fields.contains("allowed_recipient_domains[0]"))
            let after = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(after["from_address"] == "good@example.com")
            #expect(after["smtp"] == nil)
        }
    }

    @Test("a value of the wrong type, a missing SMTP host and malformed JSON name their field", arguments: StoreBackend.available)
    func decodingErrors(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let port = try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: ["smtp": ["host": "smtp.example", "port": "587"]])
            #expect(port.status == .unprocessableContent)
            #expect(port["field"] == "smtp.port")
            let host = try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: ["smtp": ["port": 587]])
            #expect(host.status == .unprocessableContent)
            #expect(host["field"] == "smtp.host")
            let security = try await api.send(
                .put, "/v1/settings/email", auth: tenant.key, json: ["smtp": ["host": "smtp.example", "security": "ssl"]])
            #expect(security["field"] == "smtp.security")
            let domains = try await api.send(.put, "/v1/settings/email", auth: tenant.key, json: ["allowed_recipient_domains": "a.example"])
            #expect(domains["field"] == "allowed_recipient_domains")
            let malformed = try await api.send(.put, "/v1/settings/email", auth: tenant.key, raw: "{\"from_address\": ")
            #expect(malformed.status == .badRequest)
            #expect(try await api.send(.get, "/v1/settings/email", auth: tenant.key)["from_address"] == nil)
        }
    }

    @Test("DELETE goes back to the server's defaults", arguments: StoreBackend.available)
    func delete(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { configuration in
            configuration.email.fromAddress = "herald@server.example"
            configuration.email.fromName = "Herald Server"
            configuration.email.smtp = SMTPServerConfiguration(
                host: "mail.server.example", port: 465, security: .tls, username: "srv", password: "server-secret")
        }
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let fresh = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(fresh.status == .ok)
            #expect(fresh.json?.objectValue?.keys.sorted() == ["effective"])
            #expect(fresh["effective"]?["from_address"] == "herald@server.example")
            #expect(fresh["effective"]?["from_name"] == "Herald Server")
            #expect(fresh["effective"]?["reply_to"] == .null)
            #expect(fresh["effective"]?["transport"] == "smtp")
            #expect(fresh["effective"]?["smtp"] == ["host": "mail.server.example", "port": 465, "security": "tls", "source": "server"])
            #expect(!fresh.text.contains("server-secret"))
            #expect(!fresh.text.contains("srv"), "the effective transport names no credentials")

            try await api.send(
                .put, "/v1/settings/email", auth: tenant.key, json: ["from_address": "a@tenant.example", "smtp": ["host": "smtp.tenant.example"]])
            let custom = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(custom["effective"]?["from_address"] == "a@tenant.example")
            #expect(custom["effective"]?["from_name"] == "Herald Server")
            #expect(custom["effective"]?["smtp"]?["source"] == "tenant")

            let deleted = try await api.send(.delete, "/v1/settings/email", auth: tenant.key)
            #expect(deleted.status == .noContent)
            #expect(deleted.text.isEmpty)
            let after = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(after.json == fresh.json)
            #expect(try await engine.emailSettings(tenantID: tenant.id) == EmailSettings())
            // Deleting again is harmless.
            #expect(try await api.send(.delete, "/v1/settings/email", auth: tenant.key).status == .noContent)
        }
    }

    @Test("with no SMTP server anywhere, the effective transport is the outbox", arguments: StoreBackend.available)
    func outboxTransport(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.email.smtp = nil }
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let reply = try await api.send(.get, "/v1/settings/email", auth: tenant.key)
            #expect(reply["effective"]?["transport"] == "outbox")
            #expect(reply["effective"]?["smtp"] == .null)
        }
    }

    @Test("settings need the tenant's key and stay within the tenant", arguments: StoreBackend.available)
    func authAndIsolation(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let a = try await api.createTenant("A")
            let b = try await api.createTenant("B")
            #expect(try await api.send(.get, "/v1/settings/email").status == .unauthorized)
            #expect(try await api.send(.put, "/v1/settings/email", json: ["from_name": "X"]).status == .unauthorized)
            #expect(try await api.send(.delete, "/v1/settings/email").status == .unauthorized)
            try await api.send(.put, "/v1/settings/email", auth: a.key, json: Self.fullSettings)
            let seenByB = try await api.send(.get, "/v1/settings/email", auth: b.key)
            #expect(seenByB["from_address"] == nil)
            #expect(seenByB["smtp"] == nil)
            try await api.send(.delete, "/v1/settings/email", auth: b.key)
            #expect(try await api.send(.get, "/v1/settings/email", auth: a.key)["from_address"] == "notices@maplecourt.example")
        }
    }
}

/// Every log line written through a `RecordingLogHandler`, message and metadata, as text.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    func append(_ line: String) { lock.withLock { recorded.append(line) } }
    var lines: [String] { lock.withLock { recorded } }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        recorder.append("\(event.level) \(event.message) \(merged) \(event.source)")
    }
}

/// Answer bodies collected inside a `@Sendable` test closure.
final class Bodies: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [String] = []
    func append(_ body: String) { lock.withLock { bodies.append(body) } }
    var all: [String] { lock.withLock { bodies } }
}
