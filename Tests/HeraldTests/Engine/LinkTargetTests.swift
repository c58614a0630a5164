import Foundation
import Herald
import Testing

/// A payload (or any data) cannot turn a rendered link into script: a trigger whose payload value a template makes
/// a link is refused naming the field, and whatever still reaches a rendered link is neutralised.
@Suite("Links: only http(s), mailto, tel or relative targets")
struct LinkTargetTests {
    @Test(
        "link targets refused",
        arguments: [
            "javascript:alert(1)", "JaVaScRiPt:alert(1)", "  javascript:alert(1)", "\u{01}javascript:alert(1)", "java\tscript:alert(1)",
            "java\nscript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox(1)", "file:///etc/passwd", "blob:https://a.example/x",
        ])
    func refused(url: String) {
        #expect(LinkTarget.problem(in: url) != nil, "\(url.debugDescription)")
    }

    @Test(
        "link targets allowed",
        arguments: [
            "https://example.com/a?b=c:d", "http://example.com", "HTTPS://EXAMPLE.COM", "mailto:desk@example.com", "tel:+441234567890",
            "/inbox/123", "//cdn.example.com/x.png", "?page=2", "#top", "inbox/1:2", "", "relative path with: colon after/slash",
        ])
    func allowed(url: String) {
        #expect(LinkTarget.problem(in: url) == nil, "\(url.debugDescription)")
    }

    @Test(
        "email HTML: refused link targets become #, others are kept",
        arguments: [
            (##"<a href="javascript:alert(1)">x</a>"##, ##"<a href="#">x</a>"##),
            (##"<a class="b" HREF = 'data:text/html,hi'>x</a>"##, ##"<a class="b" HREF = "#">x</a>"##),
            (##"<a href=vbscript:x>x</a>"##, ##"<a href="#">x</a>"##),
            (##"<a href="&#106;avascript&colon;alert(1)">x</a>"##, ##"<a href="#">x</a>"##),
            (##"<a href="&#x6A&#x61vascript:alert(1)">x</a>"##, ##"<a href="#">x</a>"##),
            (##"<img src="javascript:alert(1)"><a href="https://ok.example">ok</a>"##, ##"<img src="#"><a href="https://ok.example">ok</a>"##),
            (##"<a href="https://ok.example/?q=a:b">ok</a> <a href="/x">y</a>"##, ##"<a href="https://ok.example/?q=a:b">ok</a> <a href="/x">y</a>"##),
            (##"<p>hrefs: javascript: in text stays text</p>"##, ##"<p>hrefs: javascript: in text stays text</p>"##),
        ])
    func neutralisesHTML(html: String, expected: String) {
        #expect(LinkTarget.neutralisingLinks(inHTML: html) == expected)
    }

    static let eventType = EventType(
        key: "parcel", priority: .medium, channels: [.inApp, .email],
        parameters: ["url": ParameterSpec(type: .string), "title": ParameterSpec(type: .string)],
        templates: [
            .inApp: ["en": ["title": "{{title}}", "body": "b", "action_url": "{{url}}"]],
            .email: ["en": ["subject": "s", "html": #"<p><a href="{{url}}">open</a> <a href="{{subscriber.data.site}}">site</a>{{{title}}}</p>"#]],
        ])

    @Test("a trigger whose payload value the template makes a link is refused, naming the field")
    func refusedAtTrigger() {
        for url in ["javascript:alert(document.cookie)", " data:text/html,<script>alert(1)</script>", "vbscript:x"] {
            let problems = EventTypeValidator.payloadProblems(["url": .string(url), "title": "t"], for: Self.eventType)
            #expect(problems.map(\.field) == ["payload.url"], "\(url): \(problems)")
        }
        #expect(EventTypeValidator.payloadProblems(["url": "https://example.com/p/1", "title": "Re: javascript:"], for: Self.eventType).isEmpty)
    }

    @Test("what still reaches a rendered link is neutralised: subscriber data, raw tags, the in-app action")
    func neutralisedAtRender() throws {
        let renderer = TemplateRenderer(defaultLocale: "en")
        let event = EventContext(id: "ev_1", tenantID: "tn_1", tenantName: "T", type: "parcel", payload: [:], createdAt: Date())
        let subscriber = Subscriber(id: "s", data: ["site": "javascript:alert(1)"])
        let payload: [String: JSONValue] = ["url": "data:text/html,x", "title": #"<a href="javascript:alert(2)">raw</a>"#]
        let email = try renderer.render(eventType: Self.eventType, channel: .email, payload: payload, subscriber: subscriber, event: event)
        let html = try #require(email["html"])
        #expect(!html.lowercased().contains("javascript:") && !html.contains("data:"), "\(html)")
        #expect(html.contains(##"<a href="#">open</a>"##))
        let inApp = try renderer.render(eventType: Self.eventType, channel: .inApp, payload: payload, subscriber: subscriber, event: event)
        #expect(inApp["action_url"] == "")
        let fine = try renderer.render(
            eventType: Self.eventType, channel: .inApp, payload: ["url": "https://example.com/p/1", "title": "t"], subscriber: subscriber, event: event)
        #expect(fine["action_url"] == "https://example.com/p/1")
    }
}
