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
        context: [String: Any], unsubscribeURL: String?
    ) throws -> (html: String, text: String) {
        var context = context
        context["unsubscribe_url"] = unsubscribeURL
        var frame: [String: Any] = [
            "locale": locale, "subject": subject, "tenant_name": tenantName, "content": content,
            // Validated when the settings are saved; settings stored before that rule still never reach the style.
            "brand": layout?.brandColor.flatMap { EmailLayout.isHexColor($0) ? $0 : nil } ?? Self.defaultBrandColor,
        ]
        if let template = layout?.headerHTML {
            frame["header_template"] = ["html": try renderer.render(template, channel: .email, part: "html", context: context)]
        } else if let logo = layout?.logoURL {
            frame["logo"] = ["url": logo]
        } else {
            frame["name_only"] = true
        }
        let footer = try layout?.footerHTML.map { try renderer.render($0, channel: .email, part: "html", context: context) } ?? ""
        if !footer.isEmpty || unsubscribeURL != nil {
            var row: [String: Any] = ["template_html": footer, "after_template": !footer.isEmpty]
            row["unsubscribe"] = unsubscribeURL.map { ["url": $0] }
            frame["footer"] = row
        }
        let html = Self.template.render(frame)
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
