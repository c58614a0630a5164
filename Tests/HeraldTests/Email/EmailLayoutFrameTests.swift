import Foundation
import Testing

@testable import Herald

/// The email layout rendered once per shape and filled per email (``EmailLayoutFrame``) gives what Mustache gives when
/// it renders the layout with every value: the golden files of ``BuiltInTemplateOutputTests`` check fixed cases, these
/// check many emails of one shape, and values that look like the frame's own markers.
@Suite("Email layout frames")
struct EmailLayoutFrameTests {
    static let hostile = #"<script>alert('x')</script> & "Ünïcödé" {{subject}} {{{content}}} heraldslot"#

    static let shapes: [EmailLayoutFrame.Shape] = [
        .init(locale: "en", tenantName: "Maple Court", brand: "#1f4b99", header: .nameOnly, hasFooterHTML: false, hasUnsubscribe: true),
        .init(
            locale: #"de"><b>"#, tenantName: hostile, brand: "#abc", header: .logo(url: #"https://cdn.example/l.png?a=1&b="2""#),
            hasFooterHTML: true, hasUnsubscribe: false),
        .init(locale: "fr", tenantName: "O'Brien", brand: "#0b5cad", header: .template, hasFooterHTML: true, hasUnsubscribe: true),
        .init(locale: "ja", tenantName: "T", brand: "#000", header: .template, hasFooterHTML: false, hasUnsubscribe: false),
    ]

    @Test("a frame filled with an email's values is the layout Mustache renders with them", arguments: shapes)
    func filledFrameIsTheTemplateRendered(_ shape: EmailLayoutFrame.Shape) {
        let frame = EmailLayoutFrame(shape, template: EmailLayoutRenderer.template)
        for index in 0..<20 {
            let values: [EmailLayoutFrame.Slot: String] = [
                .subject: "Bill \(index) \(Self.hostile)", .content: "<p>Body \(index) & <b>more</b></p>",
                .headerHTML: "<b>Header \(index)</b>", .footerHTML: "<i>Footer \(index)</i> {{x}}",
                .unsubscribeURL: "https://h.example/u?t=\(index)&x=\"y\"",
            ]
            let expected = EmailLayoutRenderer.template.render(EmailLayoutFrame.context(shape) { values[$0] ?? "" })
            #expect(frame.render(values) == expected)
        }
    }

    @Test("a value holding text like the frame's markers is inserted as it is, not taken for a slot")
    func markerLikeValuesStayValues() {
        let shape = Self.shapes[0]
        let frame = EmailLayoutFrame(shape, template: EmailLayoutRenderer.template)
        let values: [EmailLayoutFrame.Slot: String] = [
            .subject: "heraldslot0123456789ABCDEF0123456789ABCDEFc heraldslotu", .content: "<p>heraldslot s</p>",
            .unsubscribeURL: "https://h.example/u",
        ]
        let html = frame.render(values)
        #expect(html == EmailLayoutRenderer.template.render(EmailLayoutFrame.context(shape) { values[$0] ?? "" }))
        #expect(html.components(separatedBy: "<title>heraldslot0123456789ABCDEF0123456789ABCDEFc heraldslotu</title>").count == 2)
        #expect(html.components(separatedBy: "<p>heraldslot s</p>").count == 2)
    }

    @Test("emails of one shape share a frame; a cache at its limit starts over")
    func framesAreKeptPerShapeUpToALimit() {
        let cache = EmailLayoutFrame.Cache(limit: 2)
        let first = cache.frame(for: Self.shapes[0], template: EmailLayoutRenderer.template)
        #expect(cache.count == 1)
        _ = cache.frame(for: Self.shapes[0], template: EmailLayoutRenderer.template)
        #expect(cache.count == 1)
        _ = cache.frame(for: Self.shapes[1], template: EmailLayoutRenderer.template)
        #expect(cache.count == 2)
        _ = cache.frame(for: Self.shapes[2], template: EmailLayoutRenderer.template)
        #expect(cache.count == 1)
        let values: [EmailLayoutFrame.Slot: String] = [.subject: "S", .content: "C", .unsubscribeURL: "https://h.example/u"]
        #expect(cache.frame(for: Self.shapes[0], template: EmailLayoutRenderer.template).render(values) == first.render(values))
    }
}
