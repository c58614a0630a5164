import Herald

/// The console's two HTML documents, `console-sign-in.mustache` (the sign-in form) and `console.mustache` (the
/// application shell that `console.js` fills), on `console-layout.mustache`. Neither holds a script or a style of
/// its own (the CSP allows none inline); every value in them is escaped by the template.
enum ConsolePage {
    /// The sign-in form; `error` says why the last attempt failed.
    static func signIn(error: String? = nil) -> String {
        PageTemplates.render(Message(error: error), template: "console-sign-in")
    }

    /// The signed-in console. The CSRF token sits in a meta element for the script to send back with every
    /// change; another site's page cannot read this document.
    static func app(_ session: ConsoleSession) -> String {
        PageTemplates.render(
            App(tenantName: session.tenant.name, apiKeyPrefix: session.apiKeyPrefix, csrfToken: session.csrfToken), template: "console")
    }

    /// What the preview frame shows in place of an email: why the draft could not be rendered, or (with no
    /// `error`) that the event type sends no email.
    static func previewMessage(error: String? = nil) -> String {
        PageTemplates.render(Message(error: error), template: "console-preview-message")
    }

    /// The sign-in form's and the preview message's context: an error to show, if any.
    private struct Message {
        let error: String?
    }

    private struct App {
        let tenantName: String
        let apiKeyPrefix: String
        let csrfToken: String
    }
}
