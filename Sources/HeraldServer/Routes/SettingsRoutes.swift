import Herald
import Hummingbird

/// `GET/PUT/DELETE /v1/settings/{name}`: every tenant settings family through the same three routes. `GET`
/// answers the stored document as the family shows it (secrets redacted, `effective` beside it); `PUT`
/// replaces it after checking every field (an unknown field, or a problem anywhere, is a 422 naming it) and
/// answers the same way; `DELETE` removes it (204). What each family stores and checks is its
/// ``TenantSettingsDocument`` conformance in the engine.
struct SettingsRoutes {
    /// The families served. A new family is its conformance and one line here.
    static let families: [Family] = [
        Family(EmailSettings.self), Family(ChatSettings.self), Family(SMSSettings.self), Family(WebhookSettings.self),
        Family(CORSSettings.self), Family(RateLimitSettings.self), Family(PushSettings.self),
    ]

    let engine: HeraldEngine
    var families: [Family] = Self.families

    func register(on group: RouterGroup<HeraldRequestContext>) {
        for family in families { family.register(engine, group) }
    }

    /// One family's routes, so that families of different document types can be listed together.
    struct Family: Sendable {
        let register: @Sendable (HeraldEngine, RouterGroup<HeraldRequestContext>) -> Void

        init<Document: TenantSettingsDocument>(_ family: Document.Type) {
            register = { engine, group in
                let settings = engine.tenantSettings(family)
                let path = RouterPath("settings/" + Document.name)
                group.get(path) { _, context in
                    JSONResponse.make(try await settings.answer(tenantID: try context.requireTenant().id))
                }
                group.put(path) { request, context in
                    let tenantID = try context.requireTenant().id
                    let input = try await request.decodeJSON(Document.self, context: context)
                    let change = try await settings.put(input, tenantID: tenantID)
                    return JSONResponse.make(try await settings.answer(after: change, tenantID: tenantID))
                }
                group.delete(path) { _, context in
                    try await settings.delete(tenantID: try context.requireTenant().id)
                    return JSONResponse.noContent()
                }
            }
        }
    }
}
