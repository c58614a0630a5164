import Foundation

/// Tenants' webhook settings as the webhook channel, the status webhooks and the API share them: the
/// family's ``TenantSettings``, read through its short cache on the delivery path and changed only by
/// whole-document transactions, so that Herald disabling an endpoint after `410 Gone` and a tenant's `PUT`
/// can never undo each other.
public typealias WebhookSettingsStore = TenantSettings<WebhookSettings>

extension TenantSettings where Document == WebhookSettings {
    /// The tenant settings key the document is stored under (the stores read it for the planner).
    public static var key: String { WebhookSettings.key }

    /// Disables every endpoint of the tenant at `url` (in either list) after it answered `410 Gone`.
    public func disableEndpoint(tenantID: String, url: String, reason: String, at date: Date = Date()) async throws {
        try await update(tenantID: tenantID) { settings in
            var changed = false
            for index in settings.endpoints.indices where settings.endpoints[index].url == url && settings.endpoints[index].isEnabled {
                settings.endpoints[index].disabledAt = date
                settings.endpoints[index].disabledReason = reason
                changed = true
            }
            for index in settings.statusEndpoints.indices
            where settings.statusEndpoints[index].url == url && settings.statusEndpoints[index].isEnabled {
                settings.statusEndpoints[index].disabledAt = date
                settings.statusEndpoints[index].disabledReason = reason
                changed = true
            }
            return changed
        }
    }

    /// Marks a subscriber's own `webhook_url` disabled after it answered `410 Gone` (see
    /// ``Subscriber/webhookDisabledKey``); a new `webhook_url` clears it.
    public func disableSubscriberURL(tenantID: String, subscriberID: String, url: String, reason: String, at date: Date = Date()) async throws {
        guard let subscriber = try await store.subscriber(tenantID: tenantID, id: subscriberID), subscriber.webhookURL == url else { return }
        var data = subscriber.data ?? [:]
        data[Subscriber.webhookDisabledKey] = .object(["url": .string(url), "at": .string(Timestamp.format(date)), "reason": .string(reason)])
        _ = try await store.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: subscriberID, data: data))
    }
}
