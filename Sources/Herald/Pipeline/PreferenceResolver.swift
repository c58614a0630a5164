/// Decides whether one event type × channel reaches a subscriber.
///
/// The most specific rule wins. In order: critical events always go; then the subscriber's own rules
/// (type × channel, type × any channel, any type × channel, any × any); then the tenant's rules for this
/// type; then the event type's default for the channel; then the tenant's rules for every type; then on.
/// The tenant's type-specific rules beat the event type's defaults because a tenant customises the shared catalog.
public struct PreferenceResolver: Sendable {
    public var tenantRules: [PreferenceRule]

    public init(tenantRules: [PreferenceRule]) {
        self.tenantRules = tenantRules
    }

    public func resolve(eventType: EventType, channel: ChannelKind, subscriberRules: [PreferenceRule]) -> (
        enabled: Bool, source: PreferenceSource
    ) {
        if eventType.priority == .critical { return (true, .critical) }
        let type = eventType.key
        let any = PreferenceRule.any
        let name = channel.rawValue
        if let rule = Self.first(in: subscriberRules, [(type, name), (type, any), (any, name), (any, any)]) {
            return (rule.enabled, rule.unsubscribed ? .unsubscribed : .subscriber)
        }
        if let rule = Self.first(in: tenantRules, [(type, name), (type, any)]) {
            return (rule.enabled, .tenant)
        }
        if let enabled = eventType.defaults[channel] { return (enabled, .eventType) }
        if let rule = Self.first(in: tenantRules, [(any, name), (any, any)]) {
            return (rule.enabled, .tenant)
        }
        return (true, .default)
    }

    /// The digest a subscriber asked for instead of immediate delivery, for a low-priority type: from
    /// their most specific rule for the type and channel, when that rule is on and names one.
    public func requestedDigest(eventType: EventType, channel: ChannelKind, subscriberRules: [PreferenceRule]) -> DigestSpec? {
        guard eventType.priority == .low else { return nil }
        let any = PreferenceRule.any
        let rule = Self.first(in: subscriberRules, [(eventType.key, channel.rawValue), (eventType.key, any), (any, channel.rawValue), (any, any)])
        guard let rule, rule.enabled else { return nil }
        return rule.digest
    }

    /// The effective preference for every event type and channel in a catalog.
    public func effective(catalog: [EventType], subscriberRules: [PreferenceRule]) -> [EffectivePreference] {
        catalog.sorted { $0.key < $1.key }.flatMap { eventType in
            eventType.channels.map { channel in
                let (enabled, source) = resolve(eventType: eventType, channel: channel, subscriberRules: subscriberRules)
                return EffectivePreference(eventType: eventType.key, channel: channel, enabled: enabled, source: source)
            }
        }
    }

    private static func first(in rules: [PreferenceRule], _ order: [(String, String)]) -> PreferenceRule? {
        for (type, channel) in order {
            if let rule = rules.first(where: { $0.eventType == type && $0.channel == channel }) { return rule }
        }
        return nil
    }
}
