import Foundation
import Herald
import Testing

@Suite("Digest rendering")
struct DigestRenderingTests {
    static let type = EventType(
        key: "comment_added", name: "Comments", priority: .low, channels: ChannelKind.allCases,
        parameters: ["author": ParameterSpec(type: .string)],
        templates: [
            .inApp: ["en": ["title": "{{author}} commented", "body": "x"]],
            .email: ["en": ["subject": "{{author}} commented", "html": "<p>{{author}}</p>"]],
            .sms: ["en": ["text": "{{author}} commented"]],
            .chat: ["en": ["text": "{{author}} commented"]],
            .webhook: ["en": ["body": #"{"author": "{{author}}"}"#]],
            .push: ["en": ["title": "{{author}} commented", "body": "x"]],
        ])

    static func items(_ authors: [String]) -> [DigestItem] {
        authors.enumerated().map { index, author in
            DigestItem(
                messageRowID: Int64(index + 1),
                event: EventContext(
                    id: "ev_\(index)", tenantID: "tn", tenantName: "Maple", type: "comment_added", payload: ["author": .string(author)],
                    createdAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(index))))
        }
    }

    @Test("the built-in digest templates list every item's own headline, on every channel", arguments: ChannelKind.allCases)
    func builtIn(_ channel: ChannelKind) throws {
        let renderer = TemplateRenderer(defaultLocale: "en")
        let items = Self.items(["Ana", "Bo <script>", "Cy"])
        let event = items[0].event
        let content = try renderer.renderDigest(
            eventType: Self.type, channel: channel, items: items, subscriber: Subscriber(id: "s1"), event: event)
        switch channel {
        case .webhook:
            let body = try JSONValue.parse(try #require(content["body"]))
            #expect(body["count"] == 3)
            #expect(body["digest"] == true)
            #expect(body["items"]?.arrayElements.compactMap { $0["payload"]?["author"]?.stringValue } == ["Ana", "Bo <script>", "Cy"])
        case .email:
            #expect(content["subject"] == "Comments: 3 new")
            let html = try #require(content["html"])
            #expect(html.contains("<li>Ana commented</li>"))
            #expect(html.contains("Bo &lt;script&gt; commented"), "escaped in HTML")
            #expect(content["text"]?.contains("- Cy commented") == true)
        default:
            let text = content.parts.values.joined(separator: "\n")
            for author in ["Ana", "Bo <script>", "Cy"] { #expect(text.contains("\(author) commented"), "\(channel): \(text)") }
            #expect(text.contains("3 new"))
        }
    }

    @Test("a type's own digest template wins over the built-in one, part by part")
    func own() throws {
        var type = Self.type
        type.digestTemplates = [.inApp: ["en": ["title": "{{count}} comments"]]]
        let content = try TemplateRenderer(defaultLocale: "en").renderDigest(
            eventType: type, channel: .inApp, items: Self.items(["Ana", "Bo"]), subscriber: Subscriber(id: "s1"), event: Self.items(["Ana"])[0].event)
        #expect(content["title"] == "2 comments")
        #expect(content["body"]?.contains("Bo commented") == true, "the body is still the built-in list")
    }
}
