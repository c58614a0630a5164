import Foundation

/// What a tenant sets up before it triggers anything: the tenant and its API keys, settings, event
/// types, subscribers and their preferences, and topics.
public protocol CatalogStore: Sendable {
    // MARK: Settings
    /// Returns the stored value for `key`, storing `value` first if there is none (first writer wins).
    func setting(_ key: String, default value: String) async throws -> String

    /// A tenant's settings document under `key` (`email` …), as JSON text, or nil when never set.
    func tenantSetting(tenantID: String, key: String) async throws -> String?
    /// Stores or (with nil) removes a tenant's settings document.
    func putTenantSetting(tenantID: String, key: String, value: String?) async throws
    /// Every tenant's settings document under one key, by tenant id.
    func tenantSettings(key: String) async throws -> [String: String]
    /// Reads, changes and writes a tenant's settings document in one transaction, so a change made by
    /// the server (a webhook endpoint disabled after `410 Gone`) cannot undo a concurrent `PUT`. `update`
    /// gets the stored JSON (nil when unset) and returns what to store (nil removes it) and a result to
    /// hand back; a throw leaves the document as it was.
    func updateTenantSetting<T: Sendable>(
        tenantID: String, key: String, _ update: @escaping @Sendable (String?) throws -> (value: String?, result: T)
    ) async throws -> T

    // MARK: Tenants and keys
    func createTenant(name: String, key: IssuedKeyMaterial) async throws -> (Tenant, APIKeyInfo)
    func tenant(id: String) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    /// The tenant owning a key with this hash, unless the key is revoked.
    func tenant(apiKeyHash: String) async throws -> Tenant?
    func addAPIKey(tenantID: String, key: IssuedKeyMaterial) async throws -> APIKeyInfo
    func apiKeys(tenantID: String) async throws -> [APIKeyInfo]
    func revokeAPIKey(tenantID: String, keyID: String) async throws -> Bool

    // MARK: Event types
    /// The tenant's own event types (overrides of the file catalog), and keys the tenant deleted.
    func tenantEventTypes(tenantID: String) async throws -> (defined: [EventType], deleted: Set<String>)
    func tenantEventType(tenantID: String, key: String) async throws -> TenantEventTypeEntry?
    func putEventType(tenantID: String, _ eventType: EventType) async throws
    /// Removes the tenant's definition; with `tombstone`, also hides a file-defined type of that key.
    func deleteEventType(tenantID: String, key: String, tombstone: Bool) async throws

    // MARK: Subscribers and preferences
    func upsertSubscriber(tenantID: String, _ input: SubscriberInput) async throws -> (Subscriber, created: Bool)
    func subscriber(tenantID: String, id: String) async throws -> Subscriber?
    func subscribers(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Subscriber>
    /// Upserts many subscribers in one transaction; returns how many were new.
    func upsertSubscribers(tenantID: String, _ inputs: [SubscriberInput]) async throws -> Int
    func deleteSubscriber(tenantID: String, id: String) async throws -> Bool
    /// The subscriber's own rules, or nil when there is no such subscriber.
    func preferences(tenantID: String, subscriberID: String) async throws -> [PreferenceRule]?
    /// Sets rules (replacing all of them when `replace`); false when there is no such subscriber.
    func setPreferences(tenantID: String, subscriberID: String, _ rules: [PreferenceRule], replace: Bool) async throws -> Bool
    func tenantPreferences(tenantID: String) async throws -> [PreferenceRule]
    func setTenantPreferences(tenantID: String, _ rules: [PreferenceRule], replace: Bool) async throws

    // MARK: Topics
    func upsertTopic(tenantID: String, key: String, name: String?) async throws -> Topic
    func topic(tenantID: String, key: String) async throws -> Topic?
    func topics(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Topic>
    func deleteTopic(tenantID: String, key: String) async throws -> Bool
    /// Adds members given by id (which must exist) or inline (upserted first), in one transaction; throws
    /// `invalid` naming unknown subscriber ids, and writes nothing then.
    func addTopicMembers(tenantID: String, topic: String, members: [Recipient]) async throws -> Int
    func removeTopicMembers(tenantID: String, topic: String, subscriberIDs: [String]) async throws -> Int
    func topicMembers(tenantID: String, topic: String, cursor: Int64?, limit: Int) async throws -> Page<String>?
}
