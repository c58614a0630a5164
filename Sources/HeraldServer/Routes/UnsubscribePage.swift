import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// The small HTML pages a subscriber sees after following an unsubscribe link (`unsubscribed.mustache` and
/// `unsubscribe-failure.mustache`). Self-contained (inline CSS, no scripts, images or external requests), not
/// indexed, and every piece of user data escaped by the template.
struct UnsubscribePage {
    var html: String
    var status: HTTPResponse.Status = .ok

    /// The confirmation after an unsubscribe. `allEmailAction` is where the "Unsubscribe from all email"
    /// button posts; it is offered only after a single-type unsubscribe.
    ///
    /// `preferencesLink` is the signed link to the subscriber's preference centre, for every other choice.
    static func confirmation(_ result: UnsubscribeResult, allEmailAction: String?, preferencesLink: String? = nil) -> UnsubscribePage {
        let description = result.eventTypeDescription.flatMap { $0.isEmpty ? nil : $0 }
        let context = Confirmation(
            tenant: result.tenantName, allEmail: result.scope == .allEmail, eventType: result.eventTypeDisplayName, description: description,
            critical: !result.stillSent.isEmpty, stillSent: result.stillSent, allEmailAction: allEmailAction, preferencesLink: preferencesLink)
        return UnsubscribePage(html: PageTemplates.render(context, template: "unsubscribed"))
    }

    /// The page for a link that did not work; nothing was changed.
    static func failure(status: HTTPResponse.Status) -> UnsubscribePage {
        let context = Failure(invalid: status == .badRequest, gone: status == .notFound, failed: status != .badRequest && status != .notFound)
        return UnsubscribePage(html: PageTemplates.render(context, template: "unsubscribe-failure"), status: status)
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

    private struct Confirmation {
        let tenant: String
        /// Every email was turned off, rather than one event type's.
        let allEmail: Bool
        let eventType: String
        let description: String?
        /// Some email is still sent: the `stillSent` types are critical.
        let critical: Bool
        let stillSent: [String]
        let allEmailAction: String?
        let preferencesLink: String?
    }

    /// Exactly one is true: the link was cut short or altered (400), its subscription is gone (404), or the
    /// request failed on Herald's side.
    private struct Failure {
        let invalid: Bool
        let gone: Bool
        let failed: Bool
    }
}
