import Foundation
import Mustache

/// The email layout rendered once for what many emails share (locale, tenant name, brand colour, which header and which
/// footer rows there are), with a slot where each email's own values go: its subject, its HTML, the rendered header
/// and footer templates and its unsubscribe link.
///
/// Rendering `Resources/email/layout.mustache` through Mustache took about 45 µs an email, most of it Mustache looking
/// up each value by dynamic casts (`perf`, `herald bench --workload email-bulk`); filling a frame's slots is a few
/// string appends. The frame is rendered by the same template, with a random marker in each slot, so its output is the
/// template's own: the golden files of `BuiltInTemplateOutputTests` hold it to that.
struct EmailLayoutFrame: Sendable {
    /// The values that differ from one email to the next.
    enum Slot: Character, Sendable {
        /// Escaped, as `{{subject}}` escapes it.
        case subject = "s"
        /// The message's HTML, as `{{{content}}}` inserts it.
        case content = "c"
        /// The tenant's header template, rendered for this email.
        case headerHTML = "h"
        /// The tenant's footer template, rendered for this email.
        case footerHTML = "f"
        /// Escaped, as `{{url}}` escapes it.
        case unsubscribeURL = "u"

        var isEscaped: Bool { self == .subject || self == .unsubscribeURL }
    }

    /// What a frame is rendered for: every value of the layout that is not a slot, and which optional rows it has.
    struct Shape: Hashable, Sendable {
        enum Header: Hashable, Sendable {
            case template
            case logo(url: String)
            case nameOnly
        }

        var locale: String
        var tenantName: String
        var brand: String
        var header: Header
        /// The footer template rendered to something (then the unsubscribe link, if any, goes on a line of its own).
        var hasFooterHTML: Bool
        var hasUnsubscribe: Bool
    }

    private let pieces: [(text: String, slot: Slot?)]

    /// Renders `template` for `shape`, with a marker no tenant can know in each slot.
    init(_ shape: Shape, template: MustacheTemplate) {
        let marker = "heraldslot" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let rendered = template.render(Self.context(shape) { "\(marker)\($0.rawValue)" })
        var pieces: [(text: String, slot: Slot?)] = []
        for (index, chunk) in rendered.components(separatedBy: marker).enumerated() {
            guard index > 0, let slot = chunk.first.flatMap(Slot.init(rawValue:)) else {
                pieces.append((chunk, nil))
                continue
            }
            pieces.append(("", slot))
            pieces.append((String(chunk.dropFirst()), nil))
        }
        self.pieces = pieces.filter { $0.slot != nil || !$0.text.isEmpty }
    }

    /// The layout's Mustache data for `shape`, with `value(slot)` in each slot.
    static func context(_ shape: Shape, value: (Slot) -> String) -> [String: Any] {
        var frame: [String: Any] = [
            "locale": shape.locale, "subject": value(.subject), "tenant_name": shape.tenantName, "content": value(.content),
            "brand": shape.brand,
        ]
        switch shape.header {
        case .template: frame["header_template"] = ["html": value(.headerHTML)]
        case .logo(let url): frame["logo"] = ["url": url]
        case .nameOnly: frame["name_only"] = true
        }
        if shape.hasFooterHTML || shape.hasUnsubscribe {
            var row: [String: Any] = ["template_html": shape.hasFooterHTML ? value(.footerHTML) : "", "after_template": shape.hasFooterHTML]
            if shape.hasUnsubscribe { row["unsubscribe"] = ["url": value(.unsubscribeURL)] }
            frame["footer"] = row
        }
        return frame
    }

    /// The layout with `values` in its slots; a slot without a value is left empty.
    func render(_ values: [Slot: String]) -> String {
        var html = ""
        html.reserveCapacity(pieces.reduce(0) { $0 + $1.text.utf8.count } + values.values.reduce(0) { $0 + $1.utf8.count + 64 })
        for piece in pieces {
            guard let slot = piece.slot else {
                html += piece.text
                continue
            }
            let value = values[slot] ?? ""
            html += slot.isEscaped ? value.htmlEscaped : value
        }
        return html
    }
}
