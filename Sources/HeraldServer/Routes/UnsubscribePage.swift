import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// The small HTML pages a subscriber sees after following an unsubscribe link. Self-contained (inline
/// CSS, no scripts, images or external requests), not indexed, and every piece of user data escaped.
struct UnsubscribePage {
    var title: String
    /// Already-escaped HTML for the card's body.
    var bodyHTML: String
    var status: HTTPResponse.Status = .ok

    /// The confirmation after an unsubscribe. `allEmailAction` is where the "Unsubscribe from all email"
    /// button posts; it is offered only after a single-type unsubscribe.
    ///
    /// `preferencesLink` is the signed link to the subscriber's preference centre, for every other choice.
    static func confirmation(_ result: UnsubscribeResult, allEmailAction: String?, preferencesLink: String? = nil) -> UnsubscribePage {
        let tenant = result.tenantName.htmlEscaped
        var html: String
        switch result.scope {
        case .eventType:
            let type = result.eventTypeDisplayName.htmlEscaped
            html = "<h1>You\u{2019}re unsubscribed</h1>\n"
            html += "<p>You will no longer receive <strong>\(type)</strong> emails from <strong>\(tenant)</strong>.</p>\n"
            if let description = result.eventTypeDescription, !description.isEmpty {
                html += "<p class=\"muted\">\(type): \(description.htmlEscaped)</p>\n"
            }
            if !result.stillSent.isEmpty {
                html += "<p class=\"note\">\(type) emails are marked critical, so they will still be sent when one happens.</p>\n"
            }
            html += "<p>Other email from \(tenant), and notifications in the app, are not affected.</p>\n"
            if let action = allEmailAction {
                html += """
                    <form method="post" action="\(action.htmlEscaped)">
                    <input type="hidden" name="scope" value="all">
                    <button type="submit">Unsubscribe from all email</button>
                    </form>

                    """
            }
        case .allEmail:
            html = "<h1>You\u{2019}re unsubscribed from all email</h1>\n"
            html += "<p>You will no longer receive any email from <strong>\(tenant)</strong>.</p>\n"
            if !result.stillSent.isEmpty {
                let names = result.stillSent.map { "<strong>\($0.htmlEscaped)</strong>" }.joined(separator: ", ")
                html += "<p class=\"note\">Critical notices (\(names)) will still be sent by email when one happens.</p>\n"
            }
            html += "<p>Notifications in the app are not affected.</p>\n"
        }
        if let preferencesLink {
            html += "<p class=\"muted\"><a href=\"\(preferencesLink.htmlEscaped)\">Choose what else reaches you, and how</a></p>\n"
        }
        return UnsubscribePage(title: "Unsubscribed \u{00B7} \(result.tenantName)", bodyHTML: html)
    }

    /// The page for a link that did not work; nothing was changed.
    static func failure(status: HTTPResponse.Status) -> UnsubscribePage {
        let html: String
        switch status {
        case .badRequest:
            html = """
                <h1>This unsubscribe link is not valid</h1>
                <p>The link may have been cut short or changed on the way. Nothing was changed.</p>
                <p>Open the link again from the email, making sure you use all of it, or change your notification settings in the app.</p>

                """
        case .notFound:
            html = """
                <h1>This unsubscribe link no longer works</h1>
                <p>The subscription it was sent for no longer exists, so there is nothing to unsubscribe from.</p>

                """
        default:
            html = """
                <h1>Something went wrong</h1>
                <p>Your request could not be handled just now and nothing was changed. Please try the link again in a few minutes.</p>

                """
        }
        return UnsubscribePage(title: "Unsubscribe link", bodyHTML: html, status: status)
    }

    var html: String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>\(title.htmlEscaped)</title>
        <style>
        :root { color-scheme: light dark; --bg: #f4f5f7; --card: #ffffff; --text: #1d2330; --muted: #5b6472; --accent: #0b5cad; --note: #fff6df; --line: #dfe3ea; }
        @media (prefers-color-scheme: dark) { :root { --bg: #15181d; --card: #1f242b; --text: #e8ebf0; --muted: #a3acb9; --accent: #6aa8ec; --note: #3a3320; --line: #333a44; } }
        * { box-sizing: border-box; }
        body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; padding: 24px; background: var(--bg); color: var(--text); font: 16px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { width: 100%; max-width: 480px; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 32px; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.06); }
        h1 { margin: 0 0 16px; font-size: 22px; line-height: 1.3; }
        p { margin: 0 0 14px; }
        .muted { color: var(--muted); font-size: 14px; }
        .note { background: var(--note); border-radius: 8px; padding: 10px 14px; font-size: 14px; }
        form { margin: 24px 0 0; padding-top: 20px; border-top: 1px solid var(--line); }
        button { font: inherit; font-weight: 600; color: #ffffff; background: var(--accent); border: 0; border-radius: 8px; padding: 10px 18px; cursor: pointer; }
        button:hover, button:focus-visible { filter: brightness(1.1); }
        </style>
        </head>
        <body>
        <main>
        \(bodyHTML)</main>
        </body>
        </html>

        """
    }

    /// The page as a response that no cache keeps, no search engine indexes and no other site can frame.
    func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "no-referrer" }
        if let name = HTTPField.Name("X-Robots-Tag") { headers[name] = "noindex" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
