import Foundation
import Mustache

/// Wraps a rendered email body in the tenant's frame: a brand-coloured header (logo, or the tenant's
/// header template, or its name), the message, and a footer with the tenant's footer template and the
/// unsubscribe link. Tables and inline styles, because that is what email clients render reliably.
///
/// The frame is `Resources/email/layout.mustache`; the plain-text part is built here, from the message's text.
public struct EmailLayoutRenderer: Sendable {
    public static let defaultBrandColor = "#1f4b99"
    /// `Resources/email/layout.mustache`, parsed once. Every value is escaped by Mustache except the HTML the tenant's
    /// own templates rendered (the message, the header and footer templates).
    static let template = BuiltInTemplates.html("email/layout.mustache")
    /// The layout rendered once per shape, filled per email.
    static let frames = EmailLayoutFrame.Cache()
    let renderer: TemplateRenderer

    public init(renderer: TemplateRenderer) {
        self.renderer = renderer
    }

    /// The complete HTML document and the plain text that goes beside it.
    ///
    /// - Parameters:
    ///   - context: the message's template data, so header and footer templates can say `{{tenant.name}}`.
    ///   - unsubscribeURL: nil for critical messages, which carry no unsubscribe link.
    public func wrap(
        html content: String, text: String?, subject: String, locale: String, layout: EmailLayout?, tenantName: String,
        context: @autoclosure () -> [String: Any], unsubscribeURL: String?
    ) throws -> (html: String, text: String) {
        // The message's data is built only for a tenant with header or footer templates: for others it would be
        // built for nothing, once per email.
        var templateContext: [String: Any]?
        func render(_ template: String) throws -> String {
            if templateContext == nil {
                templateContext = context()
                templateContext?["unsubscribe_url"] = unsubscribeURL
            }
            return try renderer.render(template, channel: .email, part: "html", context: templateContext ?? [:])
        }
        let header: EmailLayoutFrame.Shape.Header
        var values: [EmailLayoutFrame.Slot: String] = [.subject: subject, .content: content]
        if let template = layout?.headerHTML {
            header = .template
            values[.headerHTML] = try render(template)
        } else if let logo = layout?.logoURL {
            header = .logo(url: logo)
        } else {
            header = .nameOnly
        }
        let footer = try layout?.footerHTML.map(render) ?? ""
        values[.footerHTML] = footer
        values[.unsubscribeURL] = unsubscribeURL
        let shape = EmailLayoutFrame.Shape(
            locale: locale, tenantName: tenantName,
            // Validated when the settings are saved; settings stored before that rule still never reach the style.
            brand: layout?.brandColor.flatMap { EmailLayout.isHexColor($0) ? $0 : nil } ?? Self.defaultBrandColor,
            header: header, hasFooterHTML: !footer.isEmpty, hasUnsubscribe: unsubscribeURL != nil)
        let html = Self.frames.frame(for: shape, template: Self.template).render(values)
        var plain = (text?.isEmpty == false ? text! : HTMLToText.convert(content))
        let footerText = footer.isEmpty ? "" : HTMLToText.convert(footer)
        if !footerText.isEmpty || unsubscribeURL != nil {
            plain += "\n\n--\n"
            if !footerText.isEmpty { plain += footerText + "\n" }
            if let unsubscribeURL { plain += "Unsubscribe: \(unsubscribeURL)\n" }
        }
        return (html, plain)
    }
}
