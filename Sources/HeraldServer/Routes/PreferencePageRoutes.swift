import Herald
import Hummingbird

/// `GET /preferences?token=…`: the preference centre as a page of its own, for the links in email
/// footers and on the unsubscribe page. The signed link is the authority; the page's component gets a
/// one-hour token that reaches preferences only, never the inbox.
struct PreferencePageRoutes {
    let engine: HeraldEngine
    static let styles = WebAsset.styleSheet("web/preferences.css")

    /// The page itself: its link's token is the authority (declared `.link(.preferenceLink)`).
    func registerPage(on group: RouterGroup<HeraldRequestContext>) {
        group.get("preferences") { request, context in
            do {
                guard let link = request.uri.queryParameters.get("token"), !link.isEmpty else {
                    throw HeraldError.invalid("token", "is required: open the whole link from the email")
                }
                let (token, tenant, subscriber) = try await engine.openPreferenceLink(link)
                return WebPage.response(html: PreferencePage.page(tenantName: tenant.name, token: token, locale: subscriber.locale))
            } catch HeraldError.invalid {
                return WebPage.response(html: PreferencePage.failure(invalid: true), status: .badRequest)
            } catch HeraldError.notFound {
                return WebPage.response(html: PreferencePage.failure(invalid: false), status: .notFound)
            }
        }
    }

    /// The page's style sheet, for anyone.
    func registerAssets(on router: Router<HeraldRequestContext>) {
        router.get("preferences/page.css") { request, _ in Self.styles.response(to: request) }
    }
}
