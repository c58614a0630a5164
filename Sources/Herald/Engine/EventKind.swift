import Foundation

/// A typed event for Swift apps embedding Herald: the type's fields are the payload.
///
/// ```swift
/// struct PaymentDue: EventKind {
///     static let key = "payment_due"
///     var amount: Double
///     var currency: String
///     var due_date: String
///     var unit: String
/// }
/// try await herald.send(PaymentDue(amount: 120, currency: "EUR", due_date: "2026-12-01T00:00:00Z", unit: "4B"),
///                       to: [.subscriber("resident-7")], tenantID: tenant.id)
/// ```
public protocol EventKind: Encodable, Sendable {
    /// The event type's key in the catalog.
    static var key: String { get }
}

extension HeraldEngine {
    /// Triggers a typed event; the same validation as the HTTP API applies.
    @discardableResult
    public func send<Kind: EventKind>(
        _ event: Kind, to recipients: [Recipient], tenantID: String, actor: String? = nil, sendAt: Date? = nil, idempotencyKey: String? = nil
    ) async throws -> TriggerReceipt {
        let payload = try JSONCoding.decoder.decode([String: JSONValue].self, from: JSONCoding.encode(event))
        let trigger = Trigger(type: Kind.key, recipients: recipients, payload: payload, actor: actor, sendAt: sendAt)
        return try await self.trigger(trigger, tenantID: tenantID, idempotencyKey: idempotencyKey).0
    }
}
