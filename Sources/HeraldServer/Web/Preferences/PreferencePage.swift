import Herald

/// The standalone preference centre behind an email's preference link: the `<herald-preferences>`
/// component on a page of Herald's own, in the subscriber's language, with a token that reaches
/// preferences only.
enum PreferencePage {
    static func page(tenantName: String, token: String, locale: String?) -> String {
        let language = (locale?.split(separator: "-").first.map(String.init)?.lowercased()).flatMap { ["en", "fr"].contains($0) ? $0 : nil } ?? "en"
        return document(
            language: language, title: language == "fr" ? "Préférences de notification" : "Notification settings",
            body: """
                <p class="tenant">\(tenantName.htmlEscaped)</p>
                <herald-preferences token="\(token.htmlEscaped)"></herald-preferences>
                """)
    }

    static func failure(invalid: Bool) -> String {
        document(
            language: "en", title: "Notification settings",
            body: invalid
                ? """
                <div class="card"><h1>This link is not valid</h1>
                <p>The link may have been cut short or changed on the way. Open it again from the email, making sure you use all of it.</p></div>
                """
                : """
                <div class="card"><h1>This link no longer works</h1>
                <p>The subscription it was sent for no longer exists.</p></div>
                """)
    }

    static func document(language: String, title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="\(language)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>\(title.htmlEscaped)</title>
        <link rel="stylesheet" href="/preferences/page.css">
        <script src="/embed/herald.js" defer></script>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }
}
