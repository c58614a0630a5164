import Foundation
import Testing

@testable import Herald

/// A run of renders for one event shares what its recipients' contexts have in common (``TemplateContextMemo``):
/// each message must come out exactly as it would rendered on its own.
@Suite("Template context memo")
struct TemplateContextMemoTests {
    static let eventType = EventType(
        key: "visit", priority: .medium, channels: [.inApp],
        parameters: [
            "arrives_at": ParameterSpec(type: .datetime), "fee": ParameterSpec(type: .number),
            "note": ParameterSpec(type: .string, required: false),
        ],
        templates: [
            .inApp: [
                "en": [
                    "title": "Hi {{subscriber.name}}: {{datetime(arrives_at)}} ({{weekday(arrives_at)}})",
                    "body": "{{currency(fee)}} {{note}} {{event.id}} {{tenant.name}}",
                ],
                "fr": ["title": "Bonjour {{subscriber.name}}: {{datetime(arrives_at)}}", "body": "{{currency(fee)}} {{tenant.name}}"],
            ]
        ],
        fallbackTemplates: [.inApp: ["en": ["title": "A visit at {{time(arrives_at)}}", "body": "{{number(fee)}}"]]])

    @Test("a run of renders through one memo gives each recipient what rendering them alone gives: locale, time zone, a missing name's fallback")
    func memoRendersAsAlone() throws {
        let renderer = TemplateRenderer(defaultLocale: "en")
        let payload: [String: JSONValue] = ["arrives_at": .string("2026-12-06T09:30:00Z"), "fee": .number(12.5), "currency": .string("eur")]
        let event = EventContext(
            id: "ev_1", tenantID: "tn_1", tenantName: "Elm Court", type: "visit", payload: payload, createdAt: Date(timeIntervalSince1970: 1_796_000_000))
        let recipients = [
            Subscriber(id: "a", name: "Ann", locale: "en-GB", timezone: "Europe/London"),
            Subscriber(id: "b", name: "Bea", locale: "fr", timezone: "Europe/Paris"),
            Subscriber(id: "c", locale: "en-GB", timezone: "Europe/London"),
            Subscriber(id: "d", name: "Dan", locale: "en-GB", timezone: "America/New_York"),
            Subscriber(id: "e", name: "Eve", locale: "en-GB", timezone: "Europe/London"),
            Subscriber(id: "f", name: "Fay", timezone: "Not/AZone"),
        ]
        let memo = TemplateContextMemo(payload: payload, event: event)
        var rendered: [RenderedContent] = []
        for subscriber in recipients {
            let alone = try renderer.render(eventType: Self.eventType, channel: .inApp, payload: payload, subscriber: subscriber, event: event)
            let shared = try renderer.render(eventType: Self.eventType, channel: .inApp, subscriber: subscriber, memo: memo)
            #expect(shared == alone, "\(subscriber.id)")
            #expect(shared.fallbackReason == alone.fallbackReason, "\(subscriber.id)")
            rendered.append(shared)
        }
        #expect(rendered.map(\.locale) == ["en", "fr", "en", "en", "en", "en"])
        #expect(rendered[0]["title"] != rendered[3]["title"], "London and New York see the arrival at their own hour")
        #expect(rendered[2].fallbackReason == "missing subscriber.name", "the one without a name gets the fallback, the others do not")
        #expect(rendered[4].fallbackReason == nil && rendered[4]["title"]?.hasPrefix("Hi Eve") == true)
        #expect(rendered[1]["body"]?.contains("Elm Court") == true)
    }

    @Test("a required parameter missing from the event is missing for every recipient, and an optional one for none")
    func missingOutsideSubscriber() {
        let event = EventContext(id: "ev_2", tenantID: "tn_1", tenantName: "Elm Court", type: "visit", payload: [:], createdAt: Date())
        let memo = TemplateContextMemo(payload: ["note": .null], event: event)
        for subscriber in [Subscriber(id: "a", name: "Ann"), Subscriber(id: "b")] {
            let context = memo.context(subscriber: subscriber, defaultLocale: "en")
            #expect(memo.isMissing("fee", in: context, eventType: Self.eventType))
            #expect(!memo.isMissing("note", in: context, eventType: Self.eventType))
            #expect(memo.isMissing("subscriber.name", in: context, eventType: Self.eventType) == (subscriber.name == nil))
            #expect(!memo.isMissing("tenant.name", in: context, eventType: Self.eventType))
        }
    }

    @Test(
        "a part that names nothing of the subscriber is rendered once per locale and time zone; one that names them anywhere, in a section too, for each"
    )
    func sharedPartsRenderOnce() throws {
        let type = EventType(
            key: "notice", priority: .low, channels: [.inApp], parameters: ["title": ParameterSpec(type: .string), "at": ParameterSpec(type: .datetime)],
            templates: [
                .inApp: [
                    "en": [
                        "title": "Notice: {{title}} at {{time(at)}}",
                        "body": "{{#event}}{{subscriber.name}}{{/event}} {{title}}",
                        "action_url": "https://example.test/{{event.id}}",
                    ]
                ]
            ])
        let renderer = TemplateRenderer(defaultLocale: "en")
        let payload: [String: JSONValue] = ["title": .string("Lift out of order"), "at": .string("2026-12-06T09:30:00Z")]
        let event = EventContext(id: "ev_9", tenantID: "tn_1", tenantName: "Elm Court", type: "notice", payload: payload, createdAt: Date())
        let memo = TemplateContextMemo(payload: payload, event: event)
        let recipients = (0..<10).map { Subscriber(id: "s\($0)", name: "Name \($0)", locale: "en-GB", timezone: $0 < 5 ? "Europe/London" : "Asia/Tokyo") }
        for subscriber in recipients {
            let alone = try renderer.render(eventType: type, channel: .inApp, payload: payload, subscriber: subscriber, event: event)
            let shared = try renderer.render(eventType: type, channel: .inApp, subscriber: subscriber, memo: memo)
            #expect(shared == alone, "\(subscriber.id)")
            #expect(shared["body"] == "\(subscriber.name!) Lift out of order", "a name inside a section is still each subscriber's")
        }
        // Title and action URL for each of the two time zones; the body, which names the subscriber, never.
        #expect(memo.renderedCount == 4)
        #expect(memo.contentCount == 0, "a content with a part that names the subscriber is never kept whole")
        #expect(TemplateVariables(scanning: "{{title}} {{#items}}{{name}}{{/items}}").isSameForEverySubscriber)
        for text in ["{{subscriber.id}}", "{{#items}}{{subscriber.email}}{{/items}}", "{{{.}}}", "{{> header}}", "{{uppercase(subscriber.name)}}", "{{#x}}"] {
            #expect(!TemplateVariables(scanning: text).isSameForEverySubscriber, "\(text)")
        }
    }

    @Test("a channel whose templates name nothing of the subscriber is rendered whole once per locale and time zone, as each alone renders it")
    func alikeContentRendersOnce() throws {
        let type = EventType(
            key: "outage", priority: .low, channels: [.inApp], parameters: ["at": ParameterSpec(type: .datetime), "fee": ParameterSpec(type: .number)],
            templates: [
                .inApp: [
                    "en": ["title": "Water off at {{time(at)}}", "body": "{{tenant.name}}: {{currency(fee)}}"],
                    "fr": ["title": "Coupure d'eau à {{time(at)}}", "body": "{{tenant.name}} : {{currency(fee)}}"],
                ]
            ])
        let renderer = TemplateRenderer(defaultLocale: "en")
        let payload: [String: JSONValue] = ["at": .string("2026-12-06T09:30:00Z"), "fee": .number(3), "currency": .string("eur")]
        let event = EventContext(id: "ev_5", tenantID: "tn_1", tenantName: "Elm Court", type: "outage", payload: payload, createdAt: Date())
        let memo = TemplateContextMemo(payload: payload, event: event)
        let places: [(locale: String?, zone: String?)] = [("en-GB", "Europe/London"), ("fr", "Europe/Paris"), (nil, nil), ("en-GB", "Asia/Tokyo")]
        var seen: [String: RenderedContent] = [:]
        for index in 0..<40 {
            let place = places[index % places.count]
            let subscriber = Subscriber(id: "s\(index)", name: "Name \(index)", locale: place.locale, timezone: place.zone)
            let alone = try renderer.render(eventType: type, channel: .inApp, payload: payload, subscriber: subscriber, event: event)
            let shared = try renderer.render(eventType: type, channel: .inApp, subscriber: subscriber, memo: memo)
            #expect(shared == alone, "\(subscriber.id)")
            seen["\(place.locale ?? "-") \(place.zone ?? "-")"] = shared
        }
        #expect(memo.contentCount == places.count, "one render per locale and time zone met")
        #expect(seen["fr Europe/Paris"]?["title"] == "Coupure d'eau à 10:30", "Paris reads its own hour in French")
        #expect(seen["en-GB Asia/Tokyo"]?["title"] != seen["en-GB Europe/London"]?["title"])
        #expect(seen["- -"]?.locale == "en")

        // A required value the event lacks fails every recipient alike, and nothing is kept.
        let bare = TemplateContextMemo(payload: ["at": .string("2026-12-06T09:30:00Z")], event: event)
        for index in 0..<3 {
            #expect(throws: TemplateRenderer.RenderError.self) {
                try renderer.render(eventType: type, channel: .inApp, subscriber: Subscriber(id: "b\(index)"), memo: bare)
            }
        }
        #expect(bare.contentCount == 0)
    }
}
