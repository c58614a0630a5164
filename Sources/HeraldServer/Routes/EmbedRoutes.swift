import Hummingbird

/// The script a tenant's web app includes with one tag: `<script src="https://herald…/embed/herald.js">`.
/// Other origins may load it (it is the same for everyone and holds no data); the data it shows comes
/// from the inbox API with the subscriber's token, under the tenant's CORS settings.
struct EmbedRoutes {
    static let components = WebAsset.script(HeraldComponentsScript.source, crossOrigin: true)

    func register(on router: Router<HeraldRequestContext>) {
        router.get("embed/herald.js") { request, _ in Self.components.response(to: request) }
    }
}
