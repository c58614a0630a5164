import Foundation
import Herald
import Hummingbird

/// The tenant's webhooks: the webhook channel's endpoints (in failover order), the secrets for
/// subscribers' own URLs, and the status endpoints. Secrets appear in full only in the `PUT` answer that
/// set or generated them; `GET` shows them redacted (`whsec_AbCdEf********`), and a `PUT` may send a
/// redacted secret back to keep it.
struct WebhookSettingsRoutes {
    let engine: HeraldEngine

    /// An endpoint as stored, with what the server knows about it right now (read-only; ignored on `PUT`).
    struct EndpointView: Encodable {
        var endpoint: WebhookEndpoint
        /// `closed`, `open` or `half_open`: whether Herald is holding back because the endpoint failed.
        var circuit: String
        /// Status endpoints: their queued, delivered and failed status webhooks.
        var deliveries: [String: Int]?

        func encode(to encoder: any Encoder) throws {
            try endpoint.encode(to: encoder)
            var container = encoder.container(keyedBy: ReadOnlyField.self)
            try container.encode(circuit, forKey: .circuit)
            try container.encodeIfPresent(deliveries, forKey: .deliveries)
        }
    }

    struct SettingsView: Encodable {
        var endpoints: [EndpointView]
        var subscriberSecrets: [String]
        var statusEndpoints: [EndpointView]

        enum CodingKeys: String, CodingKey {
            case endpoints
            case subscriberSecrets = "subscriber_secrets"
            case statusEndpoints = "status_endpoints"
        }
    }

    func view(_ settings: WebhookSettings, revealed: Set<String> = [], tenantID: String) async throws -> SettingsView {
        let shown = settings.redacted(except: revealed)
        let counts = try await engine.statusWebhookCounts(tenantID: tenantID)
        func circuit(_ url: String) -> String { engine.circuits.state(WebhookCircuit.endpoint(url)).name }
        return SettingsView(
            endpoints: shown.endpoints.map { EndpointView(endpoint: $0, circuit: circuit($0.url)) },
            subscriberSecrets: shown.subscriberSecrets,
            statusEndpoints: shown.statusEndpoints.map {
                EndpointView(
                    endpoint: $0, circuit: circuit($0.url),
                    deliveries: ["pending": 0, "delivered": 0, "failed": 0].merging(counts[$0.url] ?? [:]) { _, counted in counted })
            })
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/webhook") { _, context in
            let tenantID = try context.requireTenant().id
            let settings = try await engine.webhookSettings(tenantID: tenantID)
            return JSONResponse.make(try await view(settings, tenantID: tenantID))
        }
        group.put("settings/webhook") { request, context in
            let tenantID = try context.requireTenant().id
            let input = try await request.decodeJSON(WebhookSettings.self, context: context)
            let (stored, revealed) = try await engine.putWebhookSettings(tenantID: tenantID, input)
            return JSONResponse.make(try await view(stored, revealed: revealed, tenantID: tenantID))
        }
        group.delete("settings/webhook") { _, context in
            try await engine.deleteWebhookSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.noContent()
        }
    }
}
