import Foundation
import Synchronization

/// Tenants' webhook settings as the channel, the status webhooks and the API share them: read through a
/// short cache on the delivery path, and changed only by whole-document transactions, so that Herald
/// disabling an endpoint after `410 Gone` and a tenant's `PUT` can never undo each other.
public final class WebhookSettingsStore: Sendable {
    /// The tenant settings key the document is stored under.
    public static let key = "webhook"
    static let cacheLifetime = Duration.seconds(2)

    let store: any Store
    private let cache = Mutex<[String: (settings: WebhookSettings, readAt: ContinuousClock.Instant)]>([:])

    public init(store: any Store) {
        self.store = store
    }

    /// The tenant's settings as stored, secrets included (redact before showing them).
    public func settings(tenantID: String) async throws -> WebhookSettings {
        guard let text = try await store.tenantSetting(tenantID: tenantID, key: Self.key) else { return WebhookSettings() }
        return try JSONCoding.decoder.decode(WebhookSettings.self, from: Data(text.utf8))
    }

    /// The settings read in the last two seconds, so a busy batch does not read them once per message.
    public func cachedSettings(tenantID: String) async throws -> WebhookSettings {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[tenantID] }), now - cached.readAt < Self.cacheLifetime { return cached.settings }
        let settings = try await settings(tenantID: tenantID)
        cache.withLock { $0[tenantID] = (settings, now) }
        return settings
    }

    /// Replaces the settings after checking every field; see ``WebhookSettings/resolvingSecrets(stored:)``
    /// for how missing and redacted secrets are filled in. Returns what was stored and the secrets the
    /// answer may show in full.
    public func replace(tenantID: String, with input: WebhookSettings, policy: DestinationPolicy) async throws
        -> (settings: WebhookSettings, revealed: Set<String>)
    {
        var problems = input.problems()
        problems += await Self.destinationProblems(input, policy: policy)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        let resolved = try await store.updateTenantSetting(tenantID: tenantID, key: Self.key) { text in
            let resolved = try input.resolvingSecrets(stored: Self.decode(text))
            return (JSONCoding.encodeText(resolved.settings), resolved)
        }
        forget(tenantID: tenantID)
        return resolved
    }

    static func decode(_ text: String?) -> WebhookSettings {
        text.flatMap { try? JSONCoding.decoder.decode(WebhookSettings.self, from: Data($0.utf8)) } ?? WebhookSettings()
    }

    public func delete(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.key, value: nil)
        forget(tenantID: tenantID)
    }

    /// Refuses, when the settings are saved, endpoints whose address is one the destination policy refuses
    /// without DNS (`127.0.0.1`, `2130706433`, `[::127.0.0.1]`, `localhost`, `10.0.0.7`). Names are resolved
    /// only when sending, where the same policy refuses them too.
    static func destinationProblems(_ settings: WebhookSettings, policy: DestinationPolicy) async -> [FieldError] {
        var problems: [FieldError] = []
        for (field, list) in [("endpoints", settings.endpoints), ("status_endpoints", settings.statusEndpoints)] {
            for (index, endpoint) in list.enumerated() {
                guard DestinationPolicy.syntaxProblem(endpoint.url) == nil, let problem = policy.problem(forURL: endpoint.url) else { continue }
                problems.append(FieldError("\(field)[\(index)].url", problem))
            }
        }
        return problems
    }

    /// Disables every endpoint of the tenant at `url` (in either list) after it answered `410 Gone`.
    public func disableEndpoint(tenantID: String, url: String, reason: String, at date: Date = Date()) async throws {
        try await store.updateTenantSetting(tenantID: tenantID, key: Self.key) { text in
            guard let text else { return (text, ()) }
            var settings = Self.decode(text)
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
            return (changed ? JSONCoding.encodeText(settings) : text, ())
        }
        forget(tenantID: tenantID)
    }

    /// Marks a subscriber's own `webhook_url` disabled after it answered `410 Gone` (see
    /// ``Subscriber/webhookDisabledKey``); a new `webhook_url` clears it.
    public func disableSubscriberURL(tenantID: String, subscriberID: String, url: String, reason: String, at date: Date = Date()) async throws {
        guard let subscriber = try await store.subscriber(tenantID: tenantID, id: subscriberID), subscriber.webhookURL == url else { return }
        var data = subscriber.data ?? [:]
        data[Subscriber.webhookDisabledKey] = .object(["url": .string(url), "at": .string(Timestamp.format(date)), "reason": .string(reason)])
        _ = try await store.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: subscriberID, data: data))
    }

    /// Forgets the cached settings, so a change takes effect on the next message.
    public func forget(tenantID: String) {
        _ = cache.withLock { $0.removeValue(forKey: tenantID) }
    }
}
