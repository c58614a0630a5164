import Foundation

extension Subscriber {
    /// The key in `data` of the subscriber's own webhook URL.
    public static let webhookURLKey = "webhook_url"
    /// The key in `data` under which Herald marks that URL disabled after it answered `410 Gone`:
    /// `{"url": …, "at": …, "reason": …}`. The mark names the URL, so giving the subscriber a new
    /// `webhook_url` is enough to start again.
    public static let webhookDisabledKey = "webhook_disabled"

    /// The subscriber's own webhook URL, if they have one.
    public var webhookURL: String? { data?[Self.webhookURLKey]?.stringValue }

    /// Why the subscriber's webhook URL is disabled, or nil when it is not.
    public var webhookDisabledReason: String? {
        guard let url = webhookURL, let mark = data?[Self.webhookDisabledKey], mark["url"]?.stringValue == url else { return nil }
        return mark["reason"]?.stringValue ?? "disabled"
    }
}
