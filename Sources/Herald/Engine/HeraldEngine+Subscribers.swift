import Foundation

extension HeraldEngine {
    public func upsertSubscriber(tenantID: String, _ input: SubscriberInput) async throws -> (Subscriber, created: Bool) {
        let problems = SubscriberValidator.problems(input, policy: configuration.outbound.policy)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        return try await store.upsertSubscriber(tenantID: tenantID, input)
    }

    /// Upserts up to 10,000 subscribers in one transaction: all of them, or none if any is invalid.
    public func upsertSubscribers(tenantID: String, _ inputs: [SubscriberInput]) async throws -> (created: Int, updated: Int) {
        guard !inputs.isEmpty, inputs.count <= 10_000 else { throw HeraldError.invalid("subscribers", "must hold 1 to 10000 subscribers") }
        var errors: [FieldError] = []
        for (index, input) in inputs.enumerated() { errors += SubscriberValidator.problems(input, policy: configuration.outbound.policy).prefixed("subscribers[\(index)]") }
        if !errors.isEmpty { throw HeraldError.invalid(Array(errors.prefix(50))) }
        let created = try await store.upsertSubscribers(tenantID: tenantID, inputs)
        return (created, inputs.count - created)
    }

    public func subscriber(tenantID: String, id: String) async throws -> Subscriber {
        guard let subscriber = try await store.subscriber(tenantID: tenantID, id: id) else { throw HeraldError.notFound("subscriber '\(id)'") }
        return subscriber
    }

    public func subscribers(tenantID: String, cursor: String?, limit: Int) async throws -> Page<Subscriber> {
        try await store.subscribers(tenantID: tenantID, cursor: try Cursor.decode(cursor), limit: limit)
    }

    public func deleteSubscriber(tenantID: String, id: String) async throws {
        guard try await store.deleteSubscriber(tenantID: tenantID, id: id) else { throw HeraldError.notFound("subscriber '\(id)'") }
    }

    /// The subscriber's own rules and the effective answer for every event type × channel.
    public func preferences(tenantID: String, subscriberID: String) async throws -> SubscriberPreferences {
        guard let rules = try await store.preferences(tenantID: tenantID, subscriberID: subscriberID) else {
            throw HeraldError.notFound("subscriber '\(subscriberID)'")
        }
        let resolver = PreferenceResolver(tenantRules: try await store.tenantPreferences(tenantID: tenantID))
        let effective = resolver.effective(catalog: try await catalog.eventTypes(tenantID: tenantID), subscriberRules: rules)
        return SubscriberPreferences(
            subscriberID: subscriberID, rules: rules, effective: effective,
            preferencesURL: preferencesURL(tenantID: tenantID, subscriberID: subscriberID))
    }

    public func setPreferences(tenantID: String, subscriberID: String, rules: [PreferenceRule], replace: Bool) async throws -> SubscriberPreferences {
        try await checkRules(rules, tenantID: tenantID)
        guard try await store.setPreferences(tenantID: tenantID, subscriberID: subscriberID, rules, replace: replace) else {
            throw HeraldError.notFound("subscriber '\(subscriberID)'")
        }
        return try await preferences(tenantID: tenantID, subscriberID: subscriberID)
    }

    public func tenantPreferences(tenantID: String) async throws -> [PreferenceRule] {
        try await store.tenantPreferences(tenantID: tenantID)
    }

    public func setTenantPreferences(tenantID: String, rules: [PreferenceRule], replace: Bool) async throws -> [PreferenceRule] {
        try await checkRules(rules, tenantID: tenantID)
        try await store.setTenantPreferences(tenantID: tenantID, rules, replace: replace)
        return try await store.tenantPreferences(tenantID: tenantID)
    }

    private func checkRules(_ rules: [PreferenceRule], tenantID: String) async throws {
        let known = Set(try await catalog.eventTypes(tenantID: tenantID).map(\.key))
        var errors: [FieldError] = []
        for (index, rule) in rules.enumerated() {
            if rule.eventType != PreferenceRule.any, !known.contains(rule.eventType) {
                errors.append(FieldError("rules[\(index)].event_type", "'\(rule.eventType)' is not an event type of this tenant (or use *)"))
            }
            errors += rule.digest?.problems(prefix: "rules[\(index)].digest") ?? []
            if rule.channel != PreferenceRule.any, ChannelKind(rawValue: rule.channel) == nil {
                errors.append(
                    FieldError(
                        "rules[\(index)].channel",
                        "'\(rule.channel)' is not a channel; expected * or one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
    }

    /// A signed token that lets a browser read this subscriber's inbox, and only it.
    public func issueSubscriberToken(tenantID: String, subscriberID: String, ttl: TimeInterval = 86_400) async throws -> (
        token: String, expiresAt: Date
    ) {
        guard let subscriber = try await store.subscriber(tenantID: tenantID, id: subscriberID) else {
            throw HeraldError.notFound("subscriber '\(subscriberID)'")
        }
        guard ttl >= 60, ttl <= 30 * 86_400 else { throw HeraldError.invalid("ttl_seconds", "must be between 60 and 2592000 (30 days)") }
        let expiresAt = Date().addingTimeInterval(ttl)
        return (tokens.issue(tenantID: tenantID, subscriber: subscriber, expiresAt: expiresAt), expiresAt)
    }
}

/// A subscriber's stored rules and what they add up to.
public struct SubscriberPreferences: Sendable, Codable {
    public var subscriberID: String
    public var rules: [PreferenceRule]
    public var effective: [EffectivePreference]
    /// The signed link to the subscriber's own preference centre (for email footers and app menus).
    public var preferencesURL: String?

    enum CodingKeys: String, CodingKey {
        case subscriberID = "subscriber_id"
        case rules, effective
        case preferencesURL = "preferences_url"
    }
}
