/// The event types a tenant can trigger: the shared ones from `herald.yml`, overlaid by the tenant's own
/// (defined or hidden over the API).
///
/// Lookups are remembered for a couple of seconds: every trigger and every dispatched batch asks for its
/// event type. A change made on this node is seen at once (``invalidate(tenantID:key:)``); one made on
/// another node sharing the database within ``cacheLifetime``.
public struct Catalog: Sendable {
    /// Event types loaded from the configuration file, by key.
    public let shared: [String: EventType]
    let store: any Store
    let cache = LookupCache<String, EventType?>(lifetime: Catalog.cacheLifetime)
    public static let cacheLifetime = 2.0

    public init(shared: [EventType], store: any Store) {
        self.shared = Dictionary(shared.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        self.store = store
    }

    public func eventType(tenantID: String, key: String) async throws -> EventType? {
        let cacheKey = tenantID + "\u{0}" + key
        if let cached = cache.value(for: cacheKey) { return cached }
        let found: EventType?
        switch try await store.tenantEventType(tenantID: tenantID, key: key) {
        case .defined(let eventType): found = eventType
        case .deleted: found = nil
        case nil: found = shared[key]
        }
        cache.store(found, for: cacheKey)
        return found
    }

    /// Forgets a remembered lookup after the tenant's event type changed.
    public func invalidate(tenantID: String, key: String) {
        cache.remove(tenantID + "\u{0}" + key)
    }

    public func eventTypes(tenantID: String) async throws -> [EventType] {
        let (defined, deleted) = try await store.tenantEventTypes(tenantID: tenantID)
        var merged = shared.filter { !deleted.contains($0.key) }
        for eventType in defined { merged[eventType.key] = eventType }
        return merged.values.sorted { $0.key < $1.key }
    }
}
