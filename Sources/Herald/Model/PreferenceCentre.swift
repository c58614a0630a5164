import Foundation

/// A subscriber's own view of their settings, as the preference centre shows it: every event type of
/// the tenant grouped by category, each channel's effective on/off and where it comes from, and the
/// subscriber's time zone and quiet hours. Critical event types are listed as always on, not editable.
public struct PreferenceCentre: Sendable, Codable, Hashable {
    public struct ChannelSetting: Sendable, Codable, Hashable {
        public var channel: ChannelKind
        public var enabled: Bool
        /// Which rule decided (`subscriber`, `unsubscribed`, `tenant`, `event_type`, `default`, `critical`).
        public var source: PreferenceSource
        /// False for critical event types, which always reach the subscriber.
        public var editable: Bool
    }

    public struct EventTypeSettings: Sendable, Codable, Hashable {
        public var key: String
        public var name: String
        public var description: String?
        public var priority: Priority
        /// Critical types bypass preferences: a safety notice must arrive whatever was chosen.
        public var critical: Bool
        public var channels: [ChannelSetting]
    }

    public struct Category: Sendable, Codable, Hashable {
        /// The catalog's category (`estate`, `issues`), or `other` for types without one.
        public var key: String
        public var eventTypes: [EventTypeSettings]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case key
            case eventTypes = "event_types"
        }
    }

    public var subscriberID: String
    public var locale: String?
    public var timezone: String?
    public var quietHours: QuietHours?
    /// Every channel some event type uses, in a stable order: the columns of a settings table.
    public var channels: [ChannelKind]
    public var categories: [Category]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case subscriberID = "subscriber_id"
        case locale, timezone
        case quietHours = "quiet_hours"
        case channels, categories
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subscriberID, forKey: .subscriberID)
        try container.encode(locale, forKey: .locale)
        try container.encode(timezone, forKey: .timezone)
        // Always present, null when none, so a page can tell "no quiet hours" from an old server.
        try container.encode(quietHours, forKey: .quietHours)
        try container.encode(channels, forKey: .channels)
        try container.encode(categories, forKey: .categories)
    }
}

/// A subscriber's change to their own settings. Every field is optional; what is absent stays as it is.
///
/// ```json
/// {"rules": [{"event_type": "newsletter", "channel": "email", "enabled": false}],
///  "timezone": "Europe/Paris", "quiet_hours": {"start": "22:00", "end": "07:00"}}
/// ```
public struct PreferenceCentreUpdate: Sendable, Codable, Hashable {
    /// Merged into the subscriber's own rules, one event type (or `*`) × channel (or `*`) each.
    public var rules: [PreferenceRule]?
    public var timezone: String?
    /// `nil` keeps the stored quiet hours; `.some(nil)` (`"quiet_hours": null`) removes them.
    public var quietHours: QuietHours??

    public init(rules: [PreferenceRule]? = nil, timezone: String? = nil, quietHours: QuietHours?? = nil) {
        self.rules = rules
        self.timezone = timezone
        self.quietHours = quietHours
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rules, timezone
        case quietHours = "quiet_hours"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        rules = try container.decodeIfPresent([PreferenceRule].self, forKey: .rules)
        timezone = try container.decodeIfPresent(String.self, forKey: .timezone)
        if container.contains(.quietHours) {
            quietHours = .some(try container.decodeNil(forKey: .quietHours) ? nil : container.decode(QuietHours.self, forKey: .quietHours))
        }
    }
}
