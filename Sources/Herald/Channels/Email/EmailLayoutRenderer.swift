import Foundation

/// Wraps a rendered email body in the tenant's frame: a brand-coloured header (logo, or the tenant's
/// header template, or its name), the message, and a footer with the tenant's footer template and the
/// unsubscribe link. Tables and inline styles, because that is what email clients render reliably.
public struct EmailLayoutRenderer: Sendable {
    public static let defaultBrandColor = "#1f4b99"
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
        let brand = layout?.brandColor ?? Self.defaultBrandColor
        let header: String
        if let template = layout?.headerHTML {
            header = try renderer.render(template, channel: .email, part: "html", context: context)
        } else if let logo = layout?.logoURL {
            header =
                "<img src=\"\(logo.htmlEscaped)\" alt=\"\(tenantName.htmlEscaped)\" height=\"32\" style=\"display:block;border:0;height:32px\">"
        } else {
            header = tenantName.htmlEscaped
        }
        let footer = try layout?.footerHTML.map { try renderer.render($0, channel: .email, part: "html", context: context) } ?? ""
        var footerHTML = footer
        if let unsubscribeURL {
            let link = "<a href=\"\(unsubscribeURL.htmlEscaped)\" style=\"color:\(brand)\">Unsubscribe from these emails</a>"
            footerHTML += footer.isEmpty ? link : "<br><br>" + link
        }
        let font = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
        let html = """
            <!DOCTYPE html>
            <html lang="\(locale.htmlEscaped)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(subject.htmlEscaped)</title>
            </head>
            <body style="margin:0;padding:0;background:#f3f4f6">
            <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6">
            <tr><td align="center" style="padding:24px 12px">
            <table role="presentation" width="600" cellpadding="0" cellspacing="0" style="width:100%;max-width:600px;background:#ffffff;border-radius:8px;overflow:hidden">
            <tr><td style="background:\(brand);color:#ffffff;padding:16px 24px;\(font);font-size:18px;font-weight:600">\(header)</td></tr>
            <tr><td style="padding:24px;\(font);font-size:15px;line-height:1.5;color:#1f2937">\(content)</td></tr>
            \(footerHTML.isEmpty ? "" : "<tr><td style=\"padding:16px 24px;border-top:1px solid #e5e7eb;\(font);font-size:12px;line-height:1.5;color:#6b7280\">\(footerHTML)</td></tr>")
            </table>
            </td></tr>
            </table>
            </body>
            </html>
            """
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
