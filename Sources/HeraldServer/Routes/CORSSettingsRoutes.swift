import Herald
import Hummingbird

/// `GET/PUT/DELETE /v1/settings/cors`: the browser origins allowed to call the tenant's inbox endpoints.
struct CORSSettingsRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/cors") { _, context in
            JSONResponse.make(try await engine.corsSettings(tenantID: try context.requireTenant().id))
        }
        group.put("settings/cors") { request, context in
            let input = try await request.decodeJSON(CORSSettings.self, context: context)
            return JSONResponse.make(try await engine.putCORSSettings(tenantID: try context.requireTenant().id, input))
        }
        group.delete("settings/cors") { _, context in
            try await engine.deleteCORSSettings(tenantID: try context.requireTenant().id)
            return Response(status: .noContent)
        }
    }
}
