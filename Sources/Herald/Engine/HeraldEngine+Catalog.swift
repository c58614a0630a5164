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
        try await store.putEventType(tenantID: tenantID, eventType)
    }

    /// Removes the tenant's event type; a type from `herald.yml` is hidden for this tenant.
    public func deleteEventType(tenantID: String, key: String) async throws {
        guard try await catalog.eventType(tenantID: tenantID, key: key) != nil else { throw HeraldError.notFound("event type '\(key)'") }
        try await store.deleteEventType(tenantID: tenantID, key: key, tombstone: catalog.shared[key] != nil)
    }

    /// Renders each channel's template for sample data, as a subscriber with `locale` would receive it.
    public func preview(tenantID: String, key: String, payload: [String: JSONValue], locale: String?) async throws -> [String: RenderedContent] {
        let eventType = try await eventType(tenantID: tenantID, key: key)
        let tenant = try await store.tenant(id: tenantID)
        let subscriber = Subscriber(id: "preview", name: "Sample Subscriber", email: "subscriber@example.com", locale: locale)
        let event = EventContext(id: "ev_preview", tenantID: tenantID, tenantName: tenant?.name ?? "", type: key, payload: payload, createdAt: Date())
        var rendered: [String: RenderedContent] = [:]
        for channel in eventType.channels {
            rendered[channel.rawValue] = try renderer.render(
                eventType: eventType, channel: channel, payload: payload, subscriber: subscriber, event: event)
        }
        return rendered
    }
}
