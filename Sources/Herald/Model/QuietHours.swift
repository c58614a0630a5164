import Foundation

/// A subscriber's quiet hours: a daily window in their own time zone during which non-critical
/// messages are held, then delivered when it ends. Critical messages go at once.
public struct QuietHours: Sendable, Codable, Hashable {
    /// Local start time, `HH:MM` (24-hour).
    public var start: String
    /// Local end time, `HH:MM`. An end before the start spans midnight (`22:00`–`07:00`).
    public var end: String
    /// The channels held; nil or empty holds every channel.
    public var channels: [ChannelKind]?

    public init(start: String, end: String, channels: [ChannelKind]? = nil) {
        self.start = start
        self.end = end
        self.channels = channels
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case start, end, channels }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        start = try container.decode(String.self, forKey: .start)
        end = try container.decode(String.self, forKey: .end)
        channels = try container.decodeIfPresent([ChannelKind].self, forKey: .channels)
    }

    /// Minutes after local midnight of `HH:MM`, or nil when malformed.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    public func applies(to channel: ChannelKind) -> Bool {
        guard let channels, !channels.isEmpty else { return true }
        return channels.contains(channel)
    }

    public func problems(prefix: String = "quiet_hours") -> [FieldError] {
        var problems: [FieldError] = []
        let start = Self.minutes(start)
        let end = Self.minutes(end)
        if start == nil { problems.append(FieldError("\(prefix).start", "'\(self.start)' is not a time like 22:00")) }
        if end == nil { problems.append(FieldError("\(prefix).end", "'\(self.end)' is not a time like 07:00")) }
        if let start, let end, start == end { problems.append(FieldError("\(prefix).end", "must differ from start")) }
        return problems
    }
}
