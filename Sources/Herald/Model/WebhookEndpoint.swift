import Foundation

/// One URL Herald posts signed webhooks to: a destination of the webhook channel, or a receiver of
/// delivery-status events.
///
/// An endpoint that answers `410 Gone` is disabled on the spot (`disabled_at`, `disabled_reason`), as
/// the Standard Webhooks guidance asks, and gets nothing more until a `PUT` clears `disabled_at`.
public struct WebhookEndpoint: Sendable, Codable, Hashable {
    public var url: String
    /// `whsec_…` secrets; every request carries one signature per secret. Empty on input means "keep
    /// this URL's stored secrets, or generate one".
    public var secrets: [String]
    /// Status endpoints only: the events this endpoint receives.
    public var events: [DeliveryStatusEvent]?
    public var disabledAt: Date?
    public var disabledReason: String?

    public init(
        url: String, secrets: [String] = [], events: [DeliveryStatusEvent]? = nil, disabledAt: Date? = nil, disabledReason: String? = nil
    ) {
        self.url = url
        self.secrets = secrets
        self.events = events
        self.disabledAt = disabledAt
        self.disabledReason = disabledReason
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, secrets, events
        case disabledAt = "disabled_at"
        case disabledReason = "disabled_reason"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: ReadOnlyField.names(.circuit, .deliveries))
        url = try container.decode(String.self, forKey: .url)
        secrets = try container.decodeIfPresent([String].self, forKey: .secrets) ?? []
        events = try container.decodeIfPresent([DeliveryStatusEvent].self, forKey: .events)
        disabledAt = try container.decodeIfPresent(Date.self, forKey: .disabledAt)
        disabledReason = try container.decodeIfPresent(String.self, forKey: .disabledReason)
    }

    public var isEnabled: Bool { disabledAt == nil }

    /// The secrets that sign requests (stored secrets are always valid; anything else is skipped).
    public var signingSecrets: [WebhookSecret] { secrets.compactMap(WebhookSecret.init) }

    /// Whether this status endpoint wants `event`.
    public func receives(_ event: DeliveryStatusEvent) -> Bool {
        isEnabled && (events ?? []).contains(event)
    }
}
