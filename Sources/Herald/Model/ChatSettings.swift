/// A tenant's chat settings: the webhooks its chat messages go to when a subscriber has no webhook of
/// their own (`data.chat_webhook_url`), in failover order. The first takes every message while it
/// works; the next is tried when it is down, rate limited or gone.
///
/// Stored as one JSON document per tenant; `GET /v1/settings/chat` never shows a webhook's URL in full.
public struct ChatSettings: Sendable, Codable, Hashable {
    public var webhooks: [ChatWebhook]

    public static let maximumWebhooks = 10

    public init(webhooks: [ChatWebhook] = []) {
        self.webhooks = webhooks
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case webhooks }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.webhooks = try container.decodeIfPresent([ChatWebhook].self, forKey: .webhooks) ?? []
    }

    /// The same settings with every URL redacted, for API answers and logs.
    public var redacted: ChatSettings {
        ChatSettings(webhooks: webhooks.map { ChatWebhook(provider: $0.service ?? $0.provider, url: $0.redactedURL, name: $0.name) })
    }

    /// These settings with each redacted URL (as a settings page sends back what it read) replaced by
    /// the stored URL it stands for: the one at the same position if it matches, else the only stored
    /// one that redacts the same way. Redacted URLs that match nothing are left for validation to refuse.
    public func restoringURLs(from stored: ChatSettings) -> ChatSettings {
        var copy = self
        for (index, webhook) in webhooks.enumerated() where webhook.isRedacted {
            if index < stored.webhooks.count, stored.webhooks[index].redactedURL == webhook.url {
                copy.webhooks[index].url = stored.webhooks[index].url
                continue
            }
            let matches = stored.webhooks.filter { $0.redactedURL == webhook.url }
            if matches.count == 1 { copy.webhooks[index].url = matches[0].url }
        }
        return copy
    }
}
