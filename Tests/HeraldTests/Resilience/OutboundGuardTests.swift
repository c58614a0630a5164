import Foundation
import Herald
import Testing

/// The one outbound guard applied to a tenant's own SMTP servers (they skipped it, so a test send read internal
/// services' greetings back), and header-bound text refused where it arrives by the rule the email encoder applies.
@Suite("Outbound guard: tenant SMTP and header-bound text")
struct OutboundGuardTests {
    static let payload: JSONValue = ["amount": 10, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B"]

    /// Fields of a 422 answer.
    static func fields(_ reply: APIClient.Reply) -> [String] {
        guard case .array(let errors)? = reply["errors"] else { return [] }
        return errors.compactMap { $0["field"]?.stringValue }
    }

    @Test(arguments: [
        ("smtp", "127.0.0.1"), ("smtp", "localhost"), ("smtp", "10.0.0.5"), ("smtp", "2130706433"), ("smtp", "127.1"), ("smtp", "::1"),
        ("smtp", "[::127.0.0.1]"), ("smtp", "169.254.169.254"), ("smtp", "0"), ("smtp_fallback", "127.0.0.1"),
        ("smtp_fallback", "0x7f000001"), ("smtp_fallback", "192.168.1.10"),
    ])
    func aTenantSMTPServerOnAPrivateAddressIsRefusedWhenSaved(field: String, host: String) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            var settings: [String: JSONValue] = ["smtp": ["host": "smtp.example.com", "port": 587]]
            settings[field] = ["host": .string(host), "port": 25]
            let reply = try await api.send(.put, "/v1/settings/email", auth: key, json: .object(settings))
            #expect(reply.status == .unprocessableContent, "\(reply.text)")
            #expect(Self.fields(reply) == ["\(field).host"], "\(reply.text)")
            #expect(reply.text.contains("private networks are refused unless the operator allows them"), "\(reply.text)")
        }
    }

    @Test(arguments: ["herald.example\r\nMAIL FROM:<x@evil.example>", "herald\nRSET", "herald\u{0}", "two words", "[10.0.0.1", "127.0.0.1"])
    func aHeloNameThatIsNotAHostNameIsRefused(helo: String) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            let reply = try await api.send(
                .put, "/v1/settings/email", auth: key, json: ["smtp": ["host": "smtp.example.com", "helo_name": .string(helo)]])
            #expect(reply.status == .unprocessableContent && Self.fields(reply) == ["smtp.helo_name"], "\(reply.text)")
        }
        #expect(SMTPServerConfiguration.heloNameProblem("mail-1.herald.example") == nil)
        #expect(SMTPServerConfiguration.heloNameProblem("[192.0.2.1]") == nil && SMTPServerConfiguration.heloNameProblem("[IPv6:2001:db8::1]") == nil)
    }

    /// Settings stored before the guard existed (written straight to the store here): the test send answers 422 naming
    /// the field and never connects, so it can neither show an internal greeting nor tell an open port from a closed one.
    @Test(arguments: ["smtp", "smtp_fallback"])
    func aTestSendToAStoredPrivateServerIsRefusedWithoutConnecting(field: String) async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let engine = try await TestEngine.make()
        let loopback: JSONValue = ["host": "127.0.0.1", "port": .number(Double(server.port)), "security": "none", "timeout_seconds": 2]
        let stored: JSONValue =
            field == "smtp" ? ["smtp": loopback] : ["smtp": ["host": "smtp.example.com", "timeout_seconds": 2], "smtp_fallback": loopback]
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("T")
            try await engine.store.putTenantSetting(tenantID: tenantID, key: "email", value: stored.jsonText())
            let reply = try await api.send(.post, "/v1/event-types/payment_due/test", auth: key, json: ["to": "me@example.com", "payload": Self.payload])
            #expect(reply.status == .unprocessableContent, "\(reply.text)")
            #expect(Self.fields(reply) == ["\(field).host"], "\(reply.text)")
            #expect(!reply.text.contains("220") && reply.json?["transcript"] == nil, "nothing of the internal service is shown: \(reply.text)")
        }
        #expect(server.connectionCount() == 0, "no connection was made")
    }

    /// The delivery path: a stored tenant server on loopback fails the message for good, without a connection.
    @Test func anEmailThroughAStoredPrivateServerFailsWithoutConnecting() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let engine = try await TestEngine.make()
        let (tenant, _) = try await engine.createTenant(name: "T")
        let stored: JSONValue = ["smtp": ["host": "127.0.0.1", "port": .number(Double(server.port)), "security": "none", "timeout_seconds": 2]]
        try await engine.store.putTenantSetting(tenantID: tenant.id, key: "email", value: stored.jsonText())
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "a", email: "a@example.com"))
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "payment_due", recipients: [.subscriber("a")], payload: Self.payload.objectValue ?? [:]), tenantID: tenant.id)
            let settled = try await engine.settledMessages(tenantID: tenant.id, eventID: receipt.eventId)
            let email = try #require(settled.first { $0.0.channel == .email })
            #expect(email.0.status == .failed, "\(email.0.status) \(email.0.lastError ?? "")")
            #expect(email.0.lastError?.contains("refused destination") == true, "\(email.0.lastError ?? "")")
        }
        #expect(server.connectionCount() == 0)
    }

    /// The operator's allow-list lets a tenant use a private server: saved, test-sent and delivered.
    @Test func theOperatorsAllowListLetsATenantUseAPrivateServer() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let engine = try await TestEngine.make { $0.outbound.allowedHosts = ["127.0.0.1"] }
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            let put = try await api.send(
                .put, "/v1/settings/email", auth: key,
                json: ["smtp": ["host": "127.0.0.1", "port": .number(Double(server.port)), "security": "none", "helo_name": "herald.test"]])
            #expect(put.status == .ok, "\(put.text)")
            let sent = try await api.send(.post, "/v1/event-types/payment_due/test", auth: key, json: ["to": "me@example.com", "payload": Self.payload])
            #expect(sent["outcome"]?.stringValue == "accepted", "\(sent.text)")
            #expect(sent.text.contains("EHLO herald.test"), "\(sent.text)")
        }
        #expect(try await server.waitForMessages(1))
    }

    /// Control characters the encoder refuses in a subject, refused in a payload value the subject shows. (Line
    /// breaks were refused already; these got through and then failed every email of the event.)
    @Test(arguments: ["\u{85}", "\u{0B}", "\u{0C}", "\u{0}", "\u{1}", "\u{7F}", "\u{9F}"])
    func aControlCharacterBoundForTheSubjectIsRefusedWhenTheEventArrives(character: String) async throws {
        let engine = try await TestEngine.make()
        let (tenant, _) = try await engine.createTenant(name: "T")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "a", email: "a@example.com"))
        var payload = Self.payload.objectValue ?? [:]
        payload["unit"] = .string("4B\(character)x")
        await #expect {
            _ = try await engine.trigger(Trigger(type: "payment_due", recipients: [.subscriber("a")], payload: payload), tenantID: tenant.id)
        } throws: { error in
            guard case HeraldError.invalid(let errors) = error else { return false }
            return errors.map(\.field) == ["payload.unit"] && errors[0].reason.contains("email subject")
        }
    }

    @Test(arguments: ["\u{85}", "\u{2028}", "\u{2029}", "\u{0B}", "\u{0C}", "\u{0}", "\u{1B}"])
    func aSubscriberNameThatCannotGoIntoAnEmailHeaderIsRefused(character: String) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            let reply = try await api.send(
                .put, "/v1/subscribers/ana", auth: key, json: ["name": .string("Ana\(character)Lee"), "email": "ana@example.com"])
            #expect(reply.status == .unprocessableContent && Self.fields(reply) == ["name"], "\(reply.text)")
            let bulk = try await api.send(
                .post, "/v1/subscribers/bulk", auth: key, json: ["subscribers": [["id": "ben", "name": .string("Ben\(character)")]]])
            #expect(bulk.status == .unprocessableContent && Self.fields(bulk) == ["subscribers[0].name"], "\(bulk.text)")
        }
    }

    @Test(arguments: ["\u{85}", "\u{2028}", "\u{0B}", "\u{0}"])
    func aFromNameThatCannotGoIntoAnEmailHeaderIsRefused(character: String) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            let reply = try await api.send(.put, "/v1/settings/email", auth: key, json: ["from_name": .string("Office\(character)")])
            #expect(reply.status == .unprocessableContent && Self.fields(reply) == ["from_name"], "\(reply.text)")
        }
    }

    /// A test send to a bare address has no subscriber name; a template that shows one answers 422 (it was a 500), as
    /// a real subscriber without a name would get the fallback template or a failed message.
    @Test func aTestSendWhoseTemplateShowsTheSubscribersNameToABareAddressIs422() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("T")
            try await engine.putEventType(tenantID: tenantID, EmailTemplateTests.bill())
            let reply = try await api.send(.post, "/v1/event-types/bill/test", auth: key, json: ["to": "me@example.com"])
            #expect(reply.status == .unprocessableContent && Self.fields(reply) == ["to"], "\(reply.text)")
            #expect(reply.text.contains("subscriber.name"), "\(reply.text)")
            try await engine.putEventType(tenantID: tenantID, EmailTemplateTests.bill(fallback: true))
            let fallback = try await api.send(.post, "/v1/event-types/bill/test", auth: key, json: ["to": "me@example.com"])
            #expect(fallback["outcome"]?.stringValue == "accepted", "the fallback template is sent, as it would be: \(fallback.text)")
        }
    }

    /// Webhook, chat, SMS and subscriber addresses refuse the numeric forms of private addresses when saved.
    @Test(arguments: ["http://2130706433/h", "http://[::127.0.0.1]/h", "http://0x7f000001:8080/h", "https://[2002:a9fe:a9fe::]/h"])
    func otherTenantDestinationsRefuseNumericPrivateFormsWhenSaved(url: String) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            let webhook = try await api.send(.put, "/v1/settings/webhook", auth: key, json: ["endpoints": [["url": .string(url)]]])
            #expect(webhook.status == .unprocessableContent && Self.fields(webhook) == ["endpoints[0].url"], "\(webhook.text)")
            let chat = try await api.send(.put, "/v1/settings/chat", auth: key, json: ["webhooks": [["url": .string(url), "provider": "slack"]]])
            #expect(chat.status == .unprocessableContent && Self.fields(chat) == ["webhooks[0].url"], "\(chat.text)")
            let sms = try await api.send(
                .put, "/v1/settings/sms", auth: key, json: ["providers": [["type": "json", "url": .string(url), "from": "Herald"]]])
            #expect(sms.status == .unprocessableContent && Self.fields(sms) == ["providers[0].url"], "\(sms.text)")
            let subscriber = try await api.send(.put, "/v1/subscribers/a", auth: key, json: ["data": ["webhook_url": .string(url)]])
            #expect(subscriber.status == .unprocessableContent && Self.fields(subscriber) == ["data.webhook_url"], "\(subscriber.text)")
        }
    }
}
