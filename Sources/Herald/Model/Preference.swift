/// One on/off rule: subscriber (or tenant default) × event type (or `*`) × channel (or `*`).
public struct PreferenceRule: Sendable, Codable, Hashable {
    public static let any = "*"

    /// An event type key, or `*` for every type.
    public var eventType: String
    /// A channel name, or `*` for every channel.
    public var channel: String
    public var enabled: Bool
    /// Set when the rule came from an unsubscribe link rather than a preference change, so the
    /// messages it stops are suppressed as `unsubscribed`. Any later preference change clears it.
    public var unsubscribed: Bool
    /// Asks for a digest instead of immediate delivery (`{"window": "1h"}`, `{"schedule": "0 8 * * *"}`).
    /// Honoured for low-priority event types; others are delivered as they come.
    public var digest: DigestSpec?

    public init(
        eventType: String = PreferenceRule.any, channel: String = PreferenceRule.any, enabled: Bool, unsubscribed: Bool = false,
        digest: DigestSpec? = nil
    ) {
        self.digest = digest
        self.eventType = eventType
        self.channel = channel
        self.enabled = enabled
        self.unsubscribed = unsubscribed && !enabled
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case eventType = "event_type"
        case channel, enabled, unsubscribed, digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventType, forKey: .eventType)
        try container.encode(channel, forKey: .channel)
        try container.encode(enabled, forKey: .enabled)
        if unsubscribed { try container.encode(true, forKey: .unsubscribed) }
        try container.encodeIfPresent(digest, forKey: .digest)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.eventType = try container.decodeIfPresent(String.self, forKey: .eventType) ?? PreferenceRule.any
        let channel = try container.decodeIfPresent(String.self, forKey: .channel) ?? PreferenceRule.any
        // "in-app" and "inapp" are common spellings of the in-app channel; store the canonical one.
        self.channel = ["in-app", "inapp"].contains(channel.lowercased()) ? ChannelKind.inApp.rawValue : channel
        self.enabled = try container.decode(Bool.self, forKey: .enabled)
        // Only an unsubscribe link marks a rule; a rule sent through the API is the subscriber's own choice.
        self.unsubscribed = false
        self.digest = try container.decodeIfPresent(DigestSpec.self, forKey: .digest)
    }
}

/// Where an effective preference came from, most specific first.
public enum PreferenceSource: String, Sendable, Codable {
    case critical
    case subscriber
    /// The subscriber turned it off from an email's unsubscribe link.
    case unsubscribed
    case tenant
    case eventType = "event_type"
    case `default`
}

/// The resolved answer for one event type × channel, as `GET /v1/subscribers/{id}/preferences` shows it.
public struct EffectivePreference: Sendable, Codable, Hashable {
    public var eventType: String
    public var channel: ChannelKind
    public var enabled: Bool
    public var source: PreferenceSource

    enum CodingKeys: String, CodingKey, CaseIterable {
        case eventType = "event_type"
        case channel, enabled, source
    }
}
