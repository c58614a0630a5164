import Herald
import Hummingbird

/// `GET/PUT/DELETE /v1/settings/rate-limits`: the tenant's notification rate limits over the server's.
struct RateLimitSettingsRoutes {
    let engine: HeraldEngine

    struct Answer: Encodable {
        var settings: RateLimitSettings?
        var effective: RateLimitSettings
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/rate-limits") { _, context in
            let tenantID = try context.requireTenant().id
            return JSONResponse.make(
                Answer(
                    settings: try await engine.tenantRateLimits(tenantID: tenantID),
                    effective: try await engine.effectiveRateLimits(tenantID: tenantID)))
        }
        group.put("settings/rate-limits") { request, context in
            let tenantID = try context.requireTenant().id
            let input = try await request.decodeJSON(RateLimitSettings.self, context: context)
            let stored = try await engine.putRateLimits(tenantID: tenantID, input)
            return JSONResponse.make(Answer(settings: stored, effective: try await engine.effectiveRateLimits(tenantID: tenantID)))
        }
        group.delete("settings/rate-limits") { _, context in
            try await engine.deleteRateLimits(tenantID: try context.requireTenant().id)
            return Response(status: .noContent)
        }
    }
}
