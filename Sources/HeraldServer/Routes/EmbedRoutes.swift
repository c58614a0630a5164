import HTTPTypes
import Hummingbird

/// The script a tenant's web app includes with one tag: `<script src="https://herald…/embed/herald.js">`.
/// Other origins may load it (it is the same for everyone and holds no data); the data it shows comes
/// from the inbox API with the subscriber's token, under the tenant's CORS settings.
struct EmbedRoutes {
    static let components = WebAsset.script("web/herald.js", crossOrigin: true)
    /// The Web Push service worker, which a site's own `/herald-sw.js` imports (`importScripts` across origins).
    static let serviceWorker = WebAsset.script("web/herald-sw.js", crossOrigin: true)
    static let serviceWorkerAllowed = HTTPField.Name("Service-Worker-Allowed")!

    func register(on router: Router<HeraldRequestContext>) {
        router.get("embed/herald.js") { request, _ in Self.components.response(to: request) }
        router.get("embed/herald-sw.js") { request, _ in
            var response = Self.serviceWorker.response(to: request)
            // Registered from Herald's own origin it may control any scope; browsers check a worker for
            // updates on their own, so each check revalidates (a 304 while unchanged).
            response.headers[Self.serviceWorkerAllowed] = "/"
            response.headers[.cacheControl] = "no-cache"
            return response
        }
    }
}
