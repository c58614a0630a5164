import Foundation

extension HeraldEngine {
    /// The tenant's webhook settings as stored (secrets included; redact before showing them).
    public func webhookSettings(tenantID: String) async throws -> WebhookSettings {
        try await webhooks.settings(tenantID: tenantID)
    }

    /// Replaces the tenant's webhook settings after checking every field: endpoint URLs (and, for IP
    /// literals, the destination policy), secrets, status events. Endpoints without secrets keep their
    /// URL's stored ones or get a new one; redacted secrets stand for the stored ones. Returns what was
    /// stored and the secrets the answer may show in full (given in full or generated now).
    public func putWebhookSettings(tenantID: String, _ settings: WebhookSettings) async throws -> (settings: WebhookSettings, revealed: Set<String>) {
        try await webhooks.replace(tenantID: tenantID, with: settings, policy: configuration.outbound.policy)
    }

    public func deleteWebhookSettings(tenantID: String) async throws {
        try await webhooks.delete(tenantID: tenantID)
    }

    /// Queued, delivered and failed status webhooks per endpoint URL, for the settings view.
    public func statusWebhookCounts(tenantID: String) async throws -> [String: [String: Int]] {
        try await store.statusWebhookCounts(tenantID: tenantID)
    }
}
