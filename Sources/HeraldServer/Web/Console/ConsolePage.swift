import Herald

/// The console's two HTML documents: the sign-in form and the application shell that `console.js`
/// fills. Neither holds a script or a style of its own (the CSP allows none inline); every value in
/// them is escaped.
enum ConsolePage {
    static func signIn(error: String? = nil) -> String {
        let message = error.map { "<p class=\"banner error\" role=\"alert\" id=\"sign-in-error\">\($0.htmlEscaped)</p>\n" } ?? ""
        return document(
            title: "Sign in",
            body: """
                <main class="signin" id="main">
                <h1><span class="mark" aria-hidden="true"></span>Herald console</h1>
                <p class="muted">Sign in with one of your tenant's API keys. The key is sent once and kept by no page: the console holds only a session.</p>
                \(message)<form method="post" action="/console/sign-in" autocomplete="off">
                <div class="field"><label for="key">Tenant API key</label>
                <input id="key" name="key" type="password" required autocomplete="off" spellcheck="false" placeholder="hk_…" aria-describedby="key-hint"></div>
                <p class="muted" id="key-hint">Keys start with hk_. Create one with POST /v1/api-keys.</p>
                <button type="submit">Sign in</button>
                </form>
                </main>
                """)
    }

    /// The signed-in console. The CSRF token sits in a meta element for the script to send back with
    /// every change; another site's page cannot read this document.
    static func app(_ session: ConsoleSession) -> String {
        document(
            title: "Console",
            head: """
                <meta name="herald-csrf-token" content="\(session.csrfToken.htmlEscaped)">
                <script src="/console/console.js" defer></script>
                """,
            body: """
                <a class="skip" href="#view">Skip to content</a>
                <header class="topbar">
                <span class="brand"><span class="mark" aria-hidden="true"></span>Herald</span>
                <span class="tenant" id="tenant-name">\(session.tenant.name.htmlEscaped) <span class="sr-only">signed in with key</span> · \(session.apiKeyPrefix.htmlEscaped)…</span>
                <form method="post" action="/console/sign-out"><input type="hidden" name="csrf_token" value="\(session.csrfToken.htmlEscaped)"><button type="submit" class="small">Sign out</button></form>
                </header>
                <div class="layout">
                <nav id="nav" aria-label="Console sections"><ul>
                <li><a href="#/" data-section="overview">Overview</a></li>
                <li><a href="#/event-types" data-section="event-types">Event types</a></li>
                <li><a href="#/events" data-section="events">Events</a></li>
                <li><a href="#/activity" data-section="activity">Activity</a></li>
                <li><a href="#/dead-letters" data-section="dead-letters">Dead letters</a></li>
                <li><a href="#/subscribers" data-section="subscribers">Subscribers</a></li>
                <li><a href="#/topics" data-section="topics">Topics</a></li>
                <li><a href="#/email" data-section="email">Email</a></li>
                </ul></nav>
                <main id="view" tabindex="-1"><p class="muted">Loading…</p></main>
                </div>
                """)
    }

    static func document(title: String, head: String = "", body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>\(title.htmlEscaped) · Herald console</title>
        <link rel="stylesheet" href="/console/console.css">
        \(head)
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }
}
