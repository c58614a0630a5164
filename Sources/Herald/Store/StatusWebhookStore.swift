import Foundation

/// The durable queue of status webhooks: delivery status events on their way to tenants' endpoints.
public protocol StatusWebhookStore: Sendable {
    /// Queues status events for their endpoints, due at once.
    func enqueueStatusWebhooks(_ deliveries: [StatusWebhookDelivery], now: Date) async throws
    /// Claims up to `limit` due status webhooks, oldest first, leasing them to `owner` until `leaseUntil`.
    func claimStatusWebhooks(owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [StatusWebhookDelivery]
    /// Records what came of claimed status webhooks, in one transaction; rows whose lease `owner` lost are left alone.
    func finishStatusWebhooks(_ results: [StatusWebhookResult], owner: String, now: Date) async throws
    /// Status webhooks by state (`pending`, `delivered`, `failed`) for a tenant's endpoint URLs.
    func statusWebhookCounts(tenantID: String) async throws -> [String: [String: Int]]
    /// Deletes delivered and failed status webhooks finished before `before`; returns how many.
    func deleteFinishedStatusWebhooks(before: Date, limit: Int) async throws -> Int
}
