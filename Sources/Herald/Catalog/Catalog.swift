/// The event types a tenant can trigger: the shared ones from `herald.yml`, overlaid by the tenant's own
/// (defined or hidden over the API).
public struct Catalog: Sendable {
    /// Event types loaded from the configuration file, by key.
    public let shared: [String: EventType]
    let store: any Store

    public init(shared: [EventType], store: any Store) {
        self.shared = Dictionary(shared.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        self.store = store
    }

    public func eventType(tenantID: String, key: String) async throws -> EventType? {
        switch try await store.tenantEventType(tenantID: tenantID, key: key) {
        case .defined(let eventType): return eventType
        case .deleted: return nil
        case nil: return shared[key]
        }
    }

    public func eventTypes(tenantID: String) async throws -> [EventType] {
        let (defined, deleted) = try await store.tenantEventTypes(tenantID: tenantID)
        var merged = shared.filter { !deleted.contains($0.key) }
        for eventType in defined { merged[eventType.key] = eventType }
        return merged.values.sorted { $0.key < $1.key }
    }
}
