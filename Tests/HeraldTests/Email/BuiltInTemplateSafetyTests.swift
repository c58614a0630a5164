import Foundation
import Testing

@testable import Herald

/// What the engine's own templates (`Sources/Herald/Resources`) put in a message is a value, never template source or
/// markup: an event type's name in a digest, a stored brand colour, the host of `herald email test`.
@Suite("Built-in templates: names and settings are values, not source")
struct BuiltInTemplateSafetyTests {
    /// Before issue 22 the name was spliced into the digest's template source, so `{{count}}` in a name rendered the
    /// count, `{{#items}}` repeated the heading and an unclosed `{{` failed the digest.
    @Test(
        "an event type's name is shown as written in every built-in digest part",
        arguments: [
            "Build {{count}} {{#items}}x{{/items}}", "Unclosed {{ tag", "{{> partial}} {{=<% %>=}}", "{{{digest.json}}}",
        ])
    func digestNameIsAValue(_ name: String) throws {
        var type = BuiltInTemplateOutputTests.digestType
        type.name = name
        let headed: [ChannelKind: [String]] = [.inApp: ["title"], .email: ["subject", "text"], .sms: ["text"], .chat: ["title"], .push: ["title"]]
        for (channel, parts) in headed {
            let content = try BuiltInTemplateOutputTests.renderDigest(type, channel: channel)
            for part in parts { #expect(content[part]?.hasPrefix(name + ": 3 new") == true, "\(channel) \(part): \(content[part] ?? "")") }
        }
        let html = try BuiltInTemplateOutputTests.renderDigest(type, channel: .email)["html"]
        #expect(html?.hasPrefix("<p>\(name.htmlEscaped): 3 new</p>") == true, "\(html ?? "")")
    }

    @Test("a type's own digest template may name the type with {{digest.name}}")
    func ownTemplateNamesTheType() throws {
        var type = BuiltInTemplateOutputTests.digestType
        type.name = "Comments {{count}}"
        type.digestTemplates = [.inApp: ["en": ["title": "{{count}} × {{digest.name}}"]]]
        let content = try BuiltInTemplateOutputTests.renderDigest(type, channel: .inApp)
        #expect(content["title"] == "3 × Comments {{count}}")
    }

    /// Saving refuses a colour that is not hex; a colour stored before that rule must not reach the style attribute.
    @Test(
        "a brand colour that is not a hex colour is replaced by the default in the layout",
        arguments: [#"red;background:url(https://tracker.example/p)"#, #"#fff" onload="alert(1)"#, "#12345", "blue"])
    func brandColourIsHex(_ colour: String) throws {
        let wrapped = try EmailLayoutRenderer(renderer: TemplateRenderer(defaultLocale: "en")).wrap(
            html: "<p>x</p>", text: nil, subject: "s", locale: "en", layout: EmailLayout(brandColor: colour), tenantName: "T", context: [:],
            unsubscribeURL: "https://h.example/u")
        #expect(!wrapped.html.contains(colour) && !wrapped.html.contains(colour.htmlEscaped), "\(wrapped.html)")
        #expect(wrapped.html.contains("background:\(EmailLayoutRenderer.defaultBrandColor);"))
        #expect(wrapped.html.contains(#"style="color:\#(EmailLayoutRenderer.defaultBrandColor)""#))
        let problems = EmailSettings(layout: EmailLayout(brandColor: colour)).problems(policy: DestinationPolicy())
        #expect(problems.contains { $0.field == "layout.brand_color" }, "saving refuses it too")
    }

    @Test("herald email test sends the same note as before, the host escaped")
    func testEmail() throws {
        let from = try EmailAddress("herald@maple.example", name: "Herald")
        let to = try EmailAddress("ops@maple.example")
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let message = EmailTester.testMessage(from: from, to: to, host: "mail-1.maple.example", date: date)
        #expect(message.subject == "Herald test email from mail-1.maple.example")
        #expect(message.messageID == "test_1800000000.cli@maple.example")
        #expect(message.from == from && message.to == [to])
        try BuiltInTemplateOutputTests.expectGolden("test-email", message.html ?? "")
        let hostile = EmailTester.testMessage(from: from, to: to, host: #"<b>"x" & 'y'</b>"#, date: date)
        #expect(hostile.html?.contains("<strong>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</strong>") == true, "\(hostile.html ?? "")")
    }
}
