import Foundation

/// One status event on its way to one status endpoint: a row of the durable status-webhook queue.
///
/// The body is fixed when the row is written, so every retry sends the same bytes under the same
/// `webhook-id`; only `webhook-timestamp` and the signatures change.
public struct StatusWebhookDelivery: Sendable, Hashable {
    /// The queue row; 0 for one not yet stored.
    public var rowID: Int64
    public var tenantID: String
    public var url: String
    /// The `webhook-id` header: stable across retries, so a receiver can drop duplicates.
    public var webhookID: String
    public var event: DeliveryStatusEvent
    /// The JSON envelope, exactly as sent.
    public var body: String
    /// Attempts so far, including the one being made (for a claimed row).
    public var attempts: Int

    public init(
        rowID: Int64 = 0, tenantID: String, url: String, webhookID: String, event: DeliveryStatusEvent, body: String, attempts: Int = 0
    ) {
        self.rowID = rowID
        self.tenantID = tenantID
        self.url = url
        self.webhookID = webhookID
        self.event = event
        self.body = body
        self.attempts = attempts
    }
}
