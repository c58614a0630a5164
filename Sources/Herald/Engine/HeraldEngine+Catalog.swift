import Foundation

extension HeraldEngine {
    public func eventTypes(tenantID: String) async throws -> [EventType] {
        try await catalog.eventTypes(tenantID: tenantID)
    }

    public func eventType(tenantID: String, key: String) async throws -> EventType {
        guard let eventType = try await catalog.eventType(tenantID: tenantID, key: key) else { throw HeraldError.notFound("event type '\(key)'") }
        return eventType
    }

    /// Defines or replaces the tenant's version of an event type, after checking every template against
    /// the declared parameters.
    public func putEventType(tenantID: String, _ eventType: EventType) async throws {
        let problems = validator.problems(eventType)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        var eventType = eventType
        eventType.appliedLimits = []  // set by the engine on each event, never part of a definition
        try await store.putEventType(tenantID: tenantID, eventType)
        catalog.invalidate(tenantID: tenantID, key: eventType.key)
    }

    /// Removes the tenant's event type; a type from `herald.yml` is hidden for this tenant.
    public func deleteEventType(tenantID: String, key: String) async throws {
        guard try await catalog.eventType(tenantID: tenantID, key: key) != nil else { throw HeraldError.notFound("event type '\(key)'") }
        try await store.deleteEventType(tenantID: tenantID, key: key, tombstone: catalog.shared[key] != nil)
        catalog.invalidate(tenantID: tenantID, key: key)
    }
}
