import Foundation

/// How much an unsubscribe link turns off.
public enum UnsubscribeScope: String, Sendable, Codable, CaseIterable {
    /// Email of the one event type the link was sent for.
    case eventType = "event_type"
    /// Every email from the tenant (critical event types still go: they bypass preferences).
    case allEmail = "all"
}

/// What an unsubscribe turned off, in words a confirmation page can show.
public struct UnsubscribeResult: Sendable, Hashable {
    public var tenantID: String
    public var tenantName: String
    public var subscriberID: String
    public var scope: UnsubscribeScope
    /// The event type the link was sent for.
    public var eventType: String
    /// The event type's display name and description from the tenant's catalog, when it has them.
    public var eventTypeName: String?
    public var eventTypeDescription: String?
    /// Display names of the critical event types whose email still goes out despite this unsubscribe.
    public var stillSent: [String]

    /// The name to show for the event type: its catalog name, or the key when the catalog has none.
    public var eventTypeDisplayName: String { eventTypeName ?? eventType }
}

extension HeraldEngine {
    /// The link an email puts in its body and `List-Unsubscribe` header, for one subscriber and event type.
    ///
    /// ```swift
    /// engine.unsubscribeURL(tenantID: tenant.id, subscriberID: "flat-12", eventType: "newsletter")
    /// // https://herald.example.com/unsubscribe?token=dGVu…
    /// ```
    public func unsubscribeURL(tenantID: String, subscriberID: String, eventType: String) -> String {
        Self.unsubscribeLink(
            base: configuration.publicBaseURL, tokens: unsubscribeTokens, tenantID: tenantID, subscriberID: subscriberID, eventType: eventType)
    }

    /// Applies an unsubscribe link: writes a subscriber rule marked `unsubscribed` that turns email off for
    /// the link's event type, or for every event type. Repeating it changes nothing further.
    ///
    /// - Throws: `HeraldError.invalid` naming `token` for a forged, altered or malformed token;
    ///   `HeraldError.notFound` when the tenant or subscriber no longer exists.
    @discardableResult
    public func unsubscribe(token: String, scope: UnsubscribeScope) async throws -> UnsubscribeResult {
        guard let claims = unsubscribeTokens.verify(token) else { throw HeraldError.invalid("token", "is not a valid unsubscribe token") }
        guard let tenant = try await store.tenant(id: claims.tenantID),
            let existing = try await store.preferences(tenantID: tenant.id, subscriberID: claims.subscriberID)
        else { throw HeraldError.notFound("subscriber '\(claims.subscriberID)'") }

        let email = ChannelKind.email.rawValue
        var rules: [PreferenceRule]
        switch scope {
        case .eventType:
            rules = [PreferenceRule(eventType: claims.eventType, channel: email, enabled: false, unsubscribed: true)]
        case .allEmail:
            rules = [PreferenceRule(eventType: PreferenceRule.any, channel: email, enabled: false, unsubscribed: true)]
            // A rule the subscriber set for one event type is more specific than `* × email` and would
            // still let that type's email through; turn those off too.
            let overriding = Set(
                existing.filter { $0.eventType != PreferenceRule.any && $0.enabled && ($0.channel == email || $0.channel == PreferenceRule.any) }
                    .map(\.eventType))
            rules += overriding.sorted().map { PreferenceRule(eventType: $0, channel: email, enabled: false, unsubscribed: true) }
        }
        guard try await store.setPreferences(tenantID: tenant.id, subscriberID: claims.subscriberID, rules, replace: false) else {
            throw HeraldError.notFound("subscriber '\(claims.subscriberID)'")
        }

        let catalog = try await catalog.eventTypes(tenantID: tenant.id)
        let eventType = catalog.first { $0.key == claims.eventType }
        let critical = catalog.filter { $0.priority == .critical && $0.channels.contains(.email) }
        let stillSent: [EventType] =
            switch scope {
            case .eventType: critical.filter { $0.key == claims.eventType }
            case .allEmail: critical
            }
        logger.info(
            "unsubscribed from email",
            metadata: [
                "tenant": "\(tenant.id)", "subscriber": "\(claims.subscriberID)", "event_type": "\(claims.eventType)", "scope": "\(scope.rawValue)",
            ])
        return UnsubscribeResult(
            tenantID: tenant.id, tenantName: tenant.name, subscriberID: claims.subscriberID, scope: scope, eventType: claims.eventType,
            eventTypeName: eventType?.name, eventTypeDescription: eventType?.description,
            stillSent: stillSent.map { $0.name ?? $0.key }.sorted())
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, so a value is safe in a query.
    static func queryEncoded(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
