/// One on/off rule: subscriber (or tenant default) × event type (or `*`) × channel (or `*`).
public struct PreferenceRule: Sendable, Codable, Hashable {
    public static let any = "*"

    /// An event type key, or `*` for every type.
    public var eventType: String
    /// A channel name, or `*` for every channel.
    public var channel: String
    public var enabled: Bool

    public init(eventType: String = PreferenceRule.any, channel: String = PreferenceRule.any, enabled: Bool) {
        self.eventType = eventType
        self.channel = channel
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case channel, enabled
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.eventType = try container.decodeIfPresent(String.self, forKey: .eventType) ?? PreferenceRule.any
        let channel = try container.decodeIfPresent(String.self, forKey: .channel) ?? PreferenceRule.any
        // "in-app" and "inapp" are common spellings of the in-app channel; store the canonical one.
        self.channel = ["in-app", "inapp"].contains(channel.lowercased()) ? ChannelKind.inApp.rawValue : channel
        self.enabled = try container.decode(Bool.self, forKey: .enabled)
    }
}

/// Where an effective preference came from, most specific first.
public enum PreferenceSource: String, Sendable, Codable {
    case critical
    case subscriber
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

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case channel, enabled, source
    }
}
