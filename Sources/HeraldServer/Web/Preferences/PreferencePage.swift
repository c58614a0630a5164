import Herald

/// The standalone preference centre behind an email's preference link (`preferences.mustache`): the
/// `<herald-preferences>` component on a page of Herald's own, in the subscriber's language, with a token that
/// reaches preferences only; and `preferences-failure.mustache` for a link that did not work.
enum PreferencePage {
    /// The languages the page is written in; any other locale gets English.
    static let languages = ["en", "fr"]

    static func page(tenantName: String, token: String, locale: String?) -> String {
        let language = (locale?.split(separator: "-").first.map(String.init)?.lowercased()).flatMap { languages.contains($0) ? $0 : nil } ?? "en"
        return PageTemplates.render(
            Page(tenantName: tenantName, token: token, language: language, french: language == "fr"), template: "preferences")
    }

    /// `invalid` when the link was cut short or altered; otherwise the subscription it was sent for is gone.
    static func failure(invalid: Bool) -> String {
        PageTemplates.render(Failure(invalid: invalid), template: "preferences-failure")
    }

    private struct Page {
        let tenantName: String
        let token: String
        /// `en` or `fr`, the document's `lang`; `french` picks the title.
        let language: String
        let french: Bool
    }

    private struct Failure {
        let invalid: Bool
    }
}
