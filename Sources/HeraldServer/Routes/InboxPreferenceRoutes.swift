import Herald
import Hummingbird

/// A subscriber's own preferences, with a subscriber token: what the preference centre component and
/// the page behind an email's preference link read and change. `GET /v1/inbox/preferences` groups every
/// event type by category with each channel's effective on/off and why; `PUT` merges rules and sets the
/// time zone and quiet hours. A try to turn off a critical event type is a 422 naming the rule.
struct InboxPreferenceRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("preferences") { _, context in
            JSONResponse.make(try await engine.preferenceCentre(try context.requireSubscriber()))
        }
        group.put("preferences") { request, context in
            let update = try await request.decodeJSON(PreferenceCentreUpdate.self, context: context)
            return JSONResponse.make(try await engine.updatePreferenceCentre(try context.requireSubscriber(), update))
        }
    }
}
