import Foundation
import Herald
import Testing

/// Email templates: helpers in the subscriber's locale and time zone, missing data and fallbacks, header
/// injection refused at trigger time, previews and test sends.
@Suite("Email templates")
struct EmailTemplateTests {
    static let event = EventContext(id: "ev_1", tenantID: "tn_1", tenantName: "Maple Court", type: "bill", payload: [:], createdAt: Date())

    static func bill(fallback: Bool = false) -> EventType {
        EventType(
            key: "bill", priority: .medium, channels: [.email],
            parameters: [
                "amount": ParameterSpec(type: .number), "currency": ParameterSpec(type: .string), "due": ParameterSpec(type: .datetime),
                "note": ParameterSpec(type: .string, required: false),
            ],
            templates: [
                .email: [
                    "en": [
                        "subject": "{{currency(amount)}} due {{date(due)}}",
                        "html": "<p>Dear {{subscriber.name}}, pay by {{datetime(due)}}.{{note}}</p>",
                    ]
                ]
            ],
            fallbackTemplates: fallback
                ? [.email: ["en": ["subject": "A bill is due", "html": "<p>A bill of {{currency(amount)}} is due.</p>"]]] : [:])
    }

    static let payload: [String: JSONValue] = ["amount": 1234.5, "currency": "EUR", "due": "2026-12-01T23:30:00Z"]

    @Test func helpersFormatInTheSubscribersLocaleAndTimeZone() throws {
        let renderer = TemplateRenderer(defaultLocale: "en")
        let english = try renderer.render(
            eventType: Self.bill(), channel: .email, payload: Self.payload, subscriber: Subscriber(id: "a", name: "Ana", timezone: "Europe/London"),
            event: Self.event)
        #expect(english["subject"] == "€1,234.50 due December 1, 2026" || english["subject"] == "€1,234.50 due 1 December 2026")
        let french = try renderer.render(
            eventType: Self.bill(), channel: .email, payload: Self.payload,
            subscriber: Subscriber(id: "b", name: "Bea", locale: "fr", timezone: "Asia/Tokyo"), event: Self.event)
        // 23:30 UTC on 1 December is 08:30 on 2 December in Tokyo, written the French way.
        #expect(french["subject"]?.contains("2 décembre 2026") == true, "\(french["subject"] ?? "")")
        #expect(french["subject"]?.contains("234,50") == true && french["subject"]?.contains("€") == true, "\(french["subject"] ?? "")")
        #expect(french["html"]?.contains("08:30") == true, "\(french["html"] ?? "")")
        // Without a helper a value renders exactly as given.
        let plain = try renderer.render(
            "{{amount}} {{due}}", channel: .email, part: "text",
            context: TemplateRenderer.context(payload: Self.payload, subscriber: Subscriber(id: "a"), event: Self.event))
        #expect(plain == "1234.5 2026-12-01T23:30:00Z")
    }

    @Test func missingDataFailsTheMessageWithItsNameOrUsesTheFallback() async throws {
        for fallback in [false, true] {
            let engine = try await TestEngine.make()
            let (tenant, _) = try await engine.createTenant(name: "T")
            try await engine.putEventType(tenantID: tenant.id, Self.bill(fallback: fallback))
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "nameless", email: "n@example.com"))
            try await engine.whileRunning {
                let (receipt, _) = try await engine.trigger(
                    Trigger(type: "bill", recipients: [.subscriber("nameless")], payload: Self.payload), tenantID: tenant.id)
                let done: MessageStatus = fallback ? .sent : .failed
                #expect(
                    try await engine.eventually {
                        try await engine.store.messageCounts(tenantID: tenant.id, eventID: receipt.eventId)[done.rawValue] == 1
                    })
                let page = try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: receipt.eventId, limit: 5))
                let (message, attempts) = try await engine.message(tenantID: tenant.id, id: page.items[0].id)
                if fallback {
                    #expect(attempts.first?.detail?.contains("sent with the fallback template (missing subscriber.name)") == true, "\(attempts)")
                } else {
                    #expect(message.reason == "render_failed")
                    #expect(message.lastError?.contains("needs subscriber.name") == true, "\(message.lastError ?? "")")
                }
            }
        }
    }

    @Test func aLineBreakBoundForTheSubjectIsRefusedWhenTheEventArrives() async throws {
        let engine = try await TestEngine.make()
        let (tenant, _) = try await engine.createTenant(name: "T")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "a", email: "a@example.com"))
        let evil = Trigger(
            type: "payment_due", recipients: [.subscriber("a")],
            payload: ["amount": 1, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": "4B\r\nBcc: everyone@example.com"])
        await #expect {
            _ = try await engine.trigger(evil, tenantID: tenant.id)
        } throws: { error in
            guard case HeraldError.invalid(let errors) = error else { return false }
            return errors.contains { $0.field == "payload.unit" && $0.reason.contains("line break") }
        }
        // A line break in a value that only reaches the body is fine.
        var type = Self.bill()
        type.templates[.email]?["en"]?["html"] = "<p>{{note}}</p>"
        try await engine.putEventType(tenantID: tenant.id, type)
        _ = try await engine.trigger(
            Trigger(type: "bill", recipients: [.subscriber("a")], payload: Self.payload.merging(["note": "line one\nline two"]) { $1 }),
            tenantID: tenant.id)
    }

    @Test func previewShowsTheFinishedEmailAndTestSendsOne() async throws {
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await TestEngine.make { $0.email.outboxDirectory = outbox.path }
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Maple Court")
            let put = try await api.send(
                .put, "/v1/settings/email", auth: key,
                json: ["from_name": "Maple Court Office", "layout": ["brand_color": "#aa3300", "footer_html": "<p>Maple Court, 1 High St</p>"]])
            #expect(put.status == .ok, "\(put.text)")
            let preview = try await api.send(.post, "/v1/event-types/payment_due/preview", auth: key, json: ["locale": "fr"])
            #expect(preview.status == .ok, "\(preview.text)")
            let email = preview["channels"]?["email"]?["parts"]
            #expect(email?["subject"]?.stringValue?.contains("€") == true, "sample data fills the declared parameters: \(preview.text)")
            #expect(email?["html"]?.stringValue?.contains("#aa3300") == true, "the tenant's layout wraps the body")
            #expect(email?["html"]?.stringValue?.contains("Maple Court, 1 High St") == true)
            #expect(email?["text"]?.stringValue?.contains("Unsubscribe:") == true, "the text part is there, unsubscribe included")
            #expect(preview["payload"]?["unit"] != nil)
            #expect(preview["subject"] == email?["subject"] && preview["html"] == email?["html"] && preview["text"] == email?["text"])

            let sent = try await api.send(.post, "/v1/event-types/payment_due/test", auth: key, json: ["to": "me@example.com"])
            #expect(sent.status == .ok && sent["outcome"]?.stringValue == "accepted", "\(sent.text)")
            #expect(sent["transport"]?.stringValue == "outbox")
            let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter { $0.hasSuffix(".eml") }
            #expect(files.count == 1)
            let bad = try await api.send(.post, "/v1/event-types/payment_due/test", auth: key, json: ["to": "not an address"])
            #expect(bad.status == .unprocessableContent && bad.text.contains("\"field\":\"to\""), "\(bad.text)")
            _ = tenantID
        }
    }
}
