import Foundation
import Herald
import Hummingbird

/// The tenant's email suppression list: addresses that bounced, complained or were put there by hand.
struct SuppressionRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("suppressions") { request, context in
            JSONResponse.make(
                try await engine.suppressions(
                    tenantID: try context.requireTenant().id, after: request.uri.queryParameters.get("cursor").map { String($0) },
                    limit: try request.intQuery("limit", default: 50, range: 1...1000)))
        }
        group.post("suppressions") { request, context in
            let input = try await request.decodeJSON(NewSuppression.self, context: context)
            return JSONResponse.make(try await engine.addSuppression(tenantID: try context.requireTenant().id, input), status: .created)
        }
        group.delete("suppressions/{address}") { _, context in
            try await engine.liftSuppression(tenantID: try context.requireTenant().id, address: try context.pathID("address"))
            return JSONResponse.noContent()
        }
    }
}
