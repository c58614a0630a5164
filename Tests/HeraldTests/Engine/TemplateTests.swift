import Foundation
import Herald
import Testing

@Suite("Templates")
struct TemplateTests {
    @Test(arguments: [
        ("Hello {{name}}", ["name"]),
        ("{{{raw}}} and {{& other}}", ["raw", "other"]),
        ("{{#items}}{{title}}{{/items}}", ["items"]),
        ("{{^missing}}none{{/missing}}", ["missing"]),
        ("{{payment.amount}} {{! comment }}", ["payment"]),
        ("{{#subscriber.name}}Hi {{subscriber.name}}{{/subscriber.name}}", ["subscriber"]),
        ("{{ uppercase(name) }}", ["name"]),
    ])
    func findsTopLevelVariables(template: String, expected: [String]) {
        let variables = TemplateVariables(scanning: template)
        #expect(variables.topLevel == Set(expected))
        #expect(variables.problems.isEmpty)
    }

    @Test func reportsUnbalancedSections() {
        #expect(!TemplateVariables(scanning: "{{#a}}open").problems.isEmpty)
        #expect(!TemplateVariables(scanning: "{{/a}}").problems.isEmpty)
        #expect(!TemplateVariables(scanning: "{{name").problems.isEmpty)
    }

    @Test func validatorRejectsUndeclaredVariable() {
        let eventType = EventType(
            key: "visitor_arrival", priority: .high, channels: [.inApp], parameters: ["visitor_name": ParameterSpec(type: .string)],
            templates: [.inApp: ["en": ["title": "{{visitor_name}} at {{gate}}", "body": "Hi {{subscriber.name}}"]]])
        let problems = EventTypeValidator(defaultLocale: "en").problems(eventType)
        #expect(problems.map(\.field) == ["templates.in_app.en.title"])
        #expect(problems.first?.reason.contains("gate") == true)
    }

    @Test func validatorRequiresDefaultLocaleAndParts() {
        let eventType = EventType(
            key: "x", priority: .low, channels: [.inApp, .email], templates: [.inApp: ["fr": ["title": "Bonjour"]]])
        let fields = Set(EventTypeValidator(defaultLocale: "en").problems(eventType).map(\.field))
        #expect(fields.contains("templates.in_app.en"))
        #expect(fields.contains("templates.email.en"))
        #expect(fields.contains("templates.in_app.fr.body"))
    }

    @Test func payloadChecksRequiredTypesAndUndeclared() {
        let eventType = EventType(
            key: "payment_due", priority: .medium, channels: [.inApp],
            parameters: [
                "amount": ParameterSpec(type: .number), "due_date": ParameterSpec(type: .datetime),
                "note": ParameterSpec(type: .string, required: false),
            ])
        let problems = EventTypeValidator.payloadProblems(["amount": .string("ten"), "extra": .bool(true)], for: eventType)
        #expect(Set(problems.map(\.field)) == ["payload.amount", "payload.due_date", "payload.extra"])
        #expect(EventTypeValidator.payloadProblems(["amount": .number(12.5), "due_date": .string("2026-12-01T00:00:00Z")], for: eventType).isEmpty)
    }

    @Test func rendersWithLocaleFallbackAndEscaping() throws {
        let renderer = TemplateRenderer(defaultLocale: "en")
        let eventType = EventType(
            key: "t", priority: .low, channels: [.inApp, .email, .webhook], parameters: ["name": ParameterSpec(type: .string)],
            templates: [
                .inApp: ["en": ["title": "Hi {{name}}", "body": "b"], "fr": ["title": "Salut {{name}}", "body": "b"]],
                .email: ["en": ["subject": "{{name}}", "html": "<p>{{name}}</p>"]],
                .webhook: ["en": ["body": "{\"name\": \"{{name}}\"}"]],
            ])
        let event = EventContext(id: "ev_1", tenantID: "tn_1", tenantName: "T", type: "t", payload: [:], createdAt: Date())
        let payload: [String: JSONValue] = ["name": .string("O'Brien <b> \"q\" \\")]
        let french = try renderer.render(
            eventType: eventType, channel: .inApp, payload: payload, subscriber: Subscriber(id: "s", locale: "fr-CA"), event: event)
        #expect(french.locale == "fr")
        #expect(french["title"] == "Salut O'Brien <b> \"q\" \\")
        let english = try renderer.render(
            eventType: eventType, channel: .inApp, payload: payload, subscriber: Subscriber(id: "s", locale: "de"), event: event)
        #expect(english.locale == "en")
        let email = try renderer.render(eventType: eventType, channel: .email, payload: payload, subscriber: Subscriber(id: "s"), event: event)
        #expect(email["html"]?.contains("&lt;b&gt;") == true)
        #expect(email["subject"] == "O'Brien <b> \"q\" \\")
        let webhook = try renderer.render(eventType: eventType, channel: .webhook, payload: payload, subscriber: Subscriber(id: "s"), event: event)
        let decoded = try JSONValue.parse(webhook["body"]!)
        #expect(decoded["name"] == .string("O'Brien <b> \"q\" \\"))
    }

    @Test func shippedCatalogIsValid() throws {
        let configuration = try TestEngine.configuration()
        try configuration.validate()
        let keys = Set(configuration.eventTypes.map(\.key))
        for key in [
            "visitor_arrival", "emergency_alert", "security_breach", "maintenance_urgent", "payment_due", "announcement_posted", "comment_reply",
            "newsletter", "issue_created", "issue_assigned", "issue_status_changed", "issue_resolved", "issue_comment_added", "issue_overdue",
            "schedule_published", "assignment_changed", "shift_reminder", "newsletter_app_first", "issue_escalation", "shift_change_urgent",
        ] {
            #expect(keys.contains(key), "missing \(key)")
        }
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test func backsOffExponentiallyWithJitterAndCap() {
        let policy = RetryPolicy(maxAttempts: 5, base: 2, cap: 10)
        #expect(policy.delay(after: 1, random: 1) == 2)
        #expect(policy.delay(after: 1, random: 0) == 1)
        #expect(policy.delay(after: 2, random: 1) == 4)
        #expect(policy.delay(after: 3, random: 1) == 8)
        #expect(policy.delay(after: 4, random: 1) == 10)
        #expect(policy.delay(after: 5) == nil)
    }
}
