import Foundation

extension HeraldEngine {
    /// Queued, delivered and failed status webhooks per endpoint URL, as the webhook settings answer shows them.
    package func statusWebhookCounts(tenantID: String) async throws -> [String: [String: Int]] {
        try await store.statusWebhookCounts(tenantID: tenantID)
    }
}
