import Foundation
import Testing

@testable import Herald

/// The engine's own HTML (the tenant's email layout, the built-in digest templates, the open pixel) as it was
/// rendered before it moved from Swift string literals to Mustache files under `Sources/Herald/Resources` (issue 22),
/// for ordinary and hostile inputs: markup, quotes, `{{` and non-ASCII in every value. The expected outputs are
/// files under `Tests/Golden/` (outside the test target, so SwiftPM does not take them for resources); a mismatch
/// writes what was rendered to `$TMPDIR/herald-golden/` for `diff`.
@Suite("Built-in templates: the same output as before they were files")
struct BuiltInTemplateOutputTests {
    static let golden = TestEngine.repositoryRoot.appendingPathComponent("Tests/Golden")
    static let hostile = #"<script>alert('x')</script> & "Ünïcödé" {{tenant.name}} {{{x}}}"#

    /// One layout input: what `EmailLayoutRenderer.wrap` is given.
    struct LayoutCase: Sendable, CustomTestStringConvertible {
        var name: String
        var html = "<p>Hello</p>"
        var text: String?
        var subject = "Hello"
        var locale = "en"
        var layout: EmailLayout?
        var tenantName = "Maple Court"
        var tenantNameInContext: String?
        var unsubscribeURL: String?
        var testDescription: String { name }
    }

    static let layoutCases: [LayoutCase] = [
        LayoutCase(name: "layout-plain"),
        LayoutCase(
            name: "layout-logo-unsubscribe", text: "Plain text, as given.", subject: #"Bill <b>"1"</b> & 'x' {{subject}} — Ü"#, locale: "de-CH",
            layout: EmailLayout(brandColor: "#0b5cad", logoURL: #"https://cdn.example/logo.png?a=1&b="2"<x>'y'"#), tenantName: hostile,
            unsubscribeURL: #"https://herald.example/unsubscribe?token=a&b="c"<d>'e'"#),
        LayoutCase(
            name: "layout-header-footer-templates",
            layout: EmailLayout(
                brandColor: "#abc", headerHTML: "<b>{{tenant.name}}</b>",
                footerHTML: #"Sent by {{tenant.name}} — <a href="{{unsubscribe_url}}">leave</a>"#),
            tenantNameInContext: hostile, unsubscribeURL: "https://h.example/u?t=1&x=2"),
        LayoutCase(
            name: "layout-footer-without-unsubscribe", html: "<p>One &amp; two</p><ul><li>a</li><li>b</li></ul>",
            layout: EmailLayout(footerHTML: "Footer ünï <i>{{tenant.name}}</i>"), tenantNameInContext: "O'Brien & Sons"),
        LayoutCase(
            name: "layout-empty-header-and-footer", layout: EmailLayout(headerHTML: "", footerHTML: ""), unsubscribeURL: "https://h.example/u"),
        LayoutCase(name: "layout-hostile-locale-and-name", locale: #"en"><script>x</script>"#, tenantName: "O'Brien & Sons <b>"),
        LayoutCase(name: "layout-logo-without-unsubscribe", layout: EmailLayout(logoURL: "https://cdn.example/ü.png"), tenantName: "Ünï"),
    ]

    @Test("the email layout renders as before", arguments: layoutCases)
    func layout(_ input: LayoutCase) throws {
        let context: [String: Any] = input.tenantNameInContext.map { ["tenant": ["id": "tn", "name": $0]] } ?? [:]
        let wrapped = try EmailLayoutRenderer(renderer: TemplateRenderer(defaultLocale: "en")).wrap(
            html: input.html, text: input.text, subject: input.subject, locale: input.locale, layout: input.layout,
            tenantName: input.tenantName, context: context, unsubscribeURL: input.unsubscribeURL)
        try Self.expectGolden(input.name, wrapped.html + "\n----- text -----\n" + wrapped.text)
    }

    /// The digest test type of ``DigestRenderingTests`` with a hostile name (markup, quotes, non-ASCII).
    static let digestType: EventType = {
        var type = DigestRenderingTests.type
        type.name = #"Ünï <b>"Comments"</b> & 'co'"#
        return type
    }()

    static func digestItems(_ authors: [String]) -> [DigestItem] { DigestRenderingTests.items(authors) }

    static func renderDigest(_ type: EventType, channel: ChannelKind) throws -> RenderedContent {
        let items = digestItems(["Ana", "Bo <script>", #"C'y "q" {{x}} Ü"#])
        return try TemplateRenderer(defaultLocale: "en").renderDigest(
            eventType: type, channel: channel, items: items, subscriber: Subscriber(id: "s1"), event: items[0].event)
    }

    @Test("the built-in digest templates render as before", arguments: ChannelKind.allCases)
    func digest(_ channel: ChannelKind) throws {
        let content = try Self.renderDigest(Self.digestType, channel: channel)
        let parts = content.parts.keys.sorted().map { "----- \($0) -----\n\(content.parts[$0]!)" }
        try Self.expectGolden("digest-\(channel.rawValue)", parts.joined(separator: "\n"))
    }

    @Test("the open pixel renders as before")
    func pixel() throws {
        let links = EmailTrackingLinks(tokens: EmailTrackingTokens(secret: "golden-secret"), baseURL: "https://herald.example/")
        let tag = EmailLinkRewriter(links: links, messageRow: 42, clicks: false, opens: true).pixelTag()
        try Self.expectGolden("open-pixel", tag)
    }

    /// `rendered` equals the golden file `name`; otherwise it is written beside the temporary folder for a diff.
    static func expectGolden(_ name: String, _ rendered: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = golden.appendingPathComponent(name + ".txt")
        let expected = try? String(contentsOf: file, encoding: .utf8)
        if expected != rendered {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-golden")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try rendered.write(to: folder.appendingPathComponent(name + ".txt"), atomically: true, encoding: .utf8)
        }
        #expect(
            expected == rendered, "\(name): differs from Tests/Golden/\(name).txt; rendered output in $TMPDIR/herald-golden/",
            sourceLocation: sourceLocation)
    }
}
