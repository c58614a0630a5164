import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// What planning needs of a tenant, in one round trip: its default preference rules, its settings that
    /// planning reads (allowed email domains, its own chat and webhook destinations), and its name (for an
    /// in-app message rendered at planning). Three reads before, a round trip each on every trigger.
    static func planningTenant(_ connection: PostgresConnection, _ logger: Logger, tenantID: String) async throws -> PlanningTenant {
        var tenant = PlanningTenant()
        var documents: [String: String] = [:]
        for row in try await connection.rows(
            """
            SELECT part, a, b, c FROM (
                SELECT 0 AS part, event_type AS a, channel AS b, enabled::text AS c FROM tenant_preferences WHERE tenant_id = \(tenantID)
                UNION ALL
                SELECT 1, key, value, NULL FROM tenant_settings WHERE tenant_id = \(tenantID)
                    AND key = ANY(\([EmailSettings.key, ChatSettings.key, WebhookSettings.key]))
                UNION ALL
                SELECT 2, name, NULL, NULL FROM tenants WHERE id = \(tenantID)
            ) x ORDER BY part, a COLLATE "C", b COLLATE "C"
            """, logger)
        {
            switch try row[0] as Int32 {
            case 0: tenant.rules.append(PreferenceRule(eventType: try row[1], channel: try row[2], enabled: try row[3] as String? == "true"))
            case 1: documents[try row[1]] = try row[2]
            default: tenant.name = try row[1]
            }
        }
        tenant.email = decodeJSON(EmailSettings.self, documents[EmailSettings.key]) ?? EmailSettings()
        tenant.destinations = TenantDestinations.channels(chat: documents[ChatSettings.key], webhook: documents[WebhookSettings.key])
        return tenant
    }

    /// What ``planningTenant(_:_:tenantID:)`` reads.
    struct PlanningTenant {
        var rules: [PreferenceRule] = []
        var email = EmailSettings()
        var destinations: Set<ChannelKind> = []
        var name = ""
    }
}
