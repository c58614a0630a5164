import Foundation
import Herald
import Hummingbird

/// Operator routes (tenants) and a tenant's own key management.
struct TenantRoutes {
    let engine: HeraldEngine

    struct CreateTenant: Decodable {
        var name: String

        enum CodingKeys: String, CodingKey, CaseIterable { case name }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
        }
    }

    struct CreateKey: Decodable {
        var name: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case name }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
        }
    }

    struct CreatedTenant: Encodable {
        var tenant: Tenant
        var apiKey: IssuedAPIKey
        enum CodingKeys: String, CodingKey {
            case tenant
            case apiKey = "api_key"
        }
    }

    func registerOperator(on group: RouterGroup<HeraldRequestContext>) {
        group.post("tenants") { request, context in
            let body = try await request.decodeJSON(CreateTenant.self, context: context)
            let (tenant, key) = try await engine.createTenant(name: body.name)
            return JSONResponse.make(CreatedTenant(tenant: tenant, apiKey: key), status: .created)
        }
        group.get("tenants") { _, _ in
            JSONResponse.make(["data": try await engine.tenants()])
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("tenant") { _, context in
            JSONResponse.make(try context.requireTenant())
        }
        group.get("api-keys") { _, context in
            JSONResponse.make(["data": try await engine.apiKeys(tenantID: try context.requireTenant().id)])
        }
        group.post("api-keys") { request, context in
            let body = try await request.decodeJSON(CreateKey.self, context: context)
            return JSONResponse.make(try await engine.createAPIKey(tenantID: try context.requireTenant().id, name: body.name), status: .created)
        }
        group.delete("api-keys/{id}") { _, context in
            try await engine.revokeAPIKey(tenantID: try context.requireTenant().id, keyID: try context.pathID("id"))
            return JSONResponse.noContent()
        }
    }
}
