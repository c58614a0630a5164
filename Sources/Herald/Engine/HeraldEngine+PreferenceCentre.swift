import Foundation

/// The subscriber-facing side of preferences: what the preference centre (the web component, and the
/// page behind an email's preference link) reads and changes, always through a subscriber token.
/// It writes the same rules as the tenant API, so `GET /v1/subscribers/{id}/preferences` shows each
/// change at once, and the next event is planned with it.
extension HeraldEngine {
    /// The subscriber's settings, grouped by category.
    public func preferenceCentre(_ claims: SubscriberTokens.Claims) async throws -> PreferenceCentre {
        let tenantID = claims.tenantID
        guard let subscriber = try await store.subscriber(tenantID: tenantID, id: claims.subscriberID),
            let rules = try await store.preferences(tenantID: tenantID, subscriberID: claims.subscriberID)
        else { throw HeraldError.notFound("subscriber '\(claims.subscriberID)'") }
        let resolver = PreferenceResolver(tenantRules: try await store.tenantPreferences(tenantID: tenantID))
        let catalog = try await catalog.eventTypes(tenantID: tenantID)

        var byCategory: [String: [PreferenceCentre.EventTypeSettings]] = [:]
        for eventType in catalog {
            let critical = eventType.priority == .critical
            let channels = eventType.channels.sorted().map { channel in
                let (enabled, source) = resolver.resolve(eventType: eventType, channel: channel, subscriberRules: rules)
                return PreferenceCentre.ChannelSetting(channel: channel, enabled: enabled, source: source, editable: !critical)
            }
            let settings = PreferenceCentre.EventTypeSettings(
                key: eventType.key, name: eventType.name ?? eventType.key, description: eventType.description, priority: eventType.priority,
                critical: critical, channels: channels)
            byCategory[eventType.category ?? "other", default: []].append(settings)
        }
        let categories = byCategory.keys.sorted { ($0 == "other" ? 1 : 0, $0) < ($1 == "other" ? 1 : 0, $1) }.map { key in
            PreferenceCentre.Category(key: key, eventTypes: byCategory[key]!.sorted { $0.name.localizedCompare($1.name) == .orderedAscending })
        }
        return PreferenceCentre(
            subscriberID: subscriber.id, locale: subscriber.locale, timezone: subscriber.timezone, quietHours: subscriber.quietHours,
            channels: Array(Set(catalog.flatMap(\.channels))).sorted(), categories: categories)
    }

    /// Applies a subscriber's change: rules are merged into their own; time zone and quiet hours are
    /// stored on the subscriber. Nothing is written when any part is refused.
    ///
    /// - Throws: `HeraldError.invalid` naming the field, for an unknown event type or channel, a try to
    ///   turn off a critical event type (`rules[i].enabled`), a bad time zone or quiet hours.
    public func updatePreferenceCentre(_ claims: SubscriberTokens.Claims, _ update: PreferenceCentreUpdate) async throws -> PreferenceCentre {
        let tenantID = claims.tenantID
        let catalog = Dictionary(uniqueKeysWithValues: try await catalog.eventTypes(tenantID: tenantID).map { ($0.key, $0) })
        var errors: [FieldError] = []
        for (index, rule) in (update.rules ?? []).enumerated() {
            let field = "rules[\(index)]"
            let channel = ChannelKind(rawValue: rule.channel)
            if rule.channel != PreferenceRule.any, channel == nil {
                errors.append(
                    FieldError(
                        "\(field).channel",
                        "'\(rule.channel)' is not a channel; expected * or one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            if rule.eventType == PreferenceRule.any { continue }
            guard let eventType = catalog[rule.eventType] else {
                errors.append(FieldError("\(field).event_type", "'\(rule.eventType)' is not an event type of this tenant (or use *)"))
                continue
            }
            if let channel, !eventType.channels.contains(channel) {
                errors.append(FieldError("\(field).channel", "\(rule.eventType) is not sent by \(rule.channel)"))
            }
            if eventType.priority == .critical, !rule.enabled {
                errors.append(
                    FieldError("\(field).enabled", "\(rule.eventType) is critical: it always reaches you and cannot be turned off"))
            }
        }
        let input = SubscriberInput(id: claims.subscriberID, timezone: update.timezone, quietHours: update.quietHours)
        if update.timezone != nil || update.quietHours != nil {
            errors += SubscriberValidator.problems(input, policy: configuration.outbound.policy).filter { $0.field == "timezone" || $0.field.hasPrefix("quiet_hours") }
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }

        guard try await store.subscriber(tenantID: tenantID, id: claims.subscriberID) != nil else {
            throw HeraldError.notFound("subscriber '\(claims.subscriberID)'")
        }
        if let rules = update.rules, !rules.isEmpty {
            guard try await store.setPreferences(tenantID: tenantID, subscriberID: claims.subscriberID, rules, replace: false) else {
                throw HeraldError.notFound("subscriber '\(claims.subscriberID)'")
            }
        }
        if update.timezone != nil || update.quietHours != nil {
            _ = try await store.upsertSubscriber(tenantID: tenantID, input)
        }
        return try await preferenceCentre(claims)
    }

    /// The link to a subscriber's preference centre, for email footers and the unsubscribe page. It does
    /// not expire; the page it opens works with a one-hour token that reaches preferences only.
    ///
    /// ```swift
    /// engine.preferencesURL(tenantID: tenant.id, subscriberID: "flat-12")
    /// // https://herald.example.com/preferences?token=dGVu…
    /// ```
    public func preferencesURL(tenantID: String, subscriberID: String) -> String {
        configuration.publicBaseURL + "/preferences?token=" + preferenceLinks.issue(.init(tenantID: tenantID, subscriberID: subscriberID))
    }

    /// Opens a preference link: a subscriber token limited to preferences, valid for an hour, and the
    /// tenant's name for the page's heading.
    ///
    /// - Throws: `HeraldError.invalid` naming `token` for a forged or altered link; `HeraldError.notFound`
    ///   when the subscriber no longer exists.
    public func openPreferenceLink(_ token: String) async throws -> (token: String, tenant: Tenant, subscriber: Subscriber) {
        guard let claims = preferenceLinks.verify(token) else { throw HeraldError.invalid("token", "is not a valid preference link") }
        guard let tenant = try await store.tenant(id: claims.tenantID),
            let subscriber = try await store.subscriber(tenantID: tenant.id, id: claims.subscriberID)
        else { throw HeraldError.notFound("subscriber '\(claims.subscriberID)'") }
        let scoped = tokens.issue(tenantID: tenant.id, subscriber: subscriber, expiresAt: Date().addingTimeInterval(3600), scope: .preferences)
        return (scoped, tenant, subscriber)
    }
}
