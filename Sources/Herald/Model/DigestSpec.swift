import Foundation

/// How an event type collects what a subscriber receives into one message per channel: over a window
/// that starts with the first item (`window: "15m"`, 15 minutes to 24 hours), or until the next run of
/// a schedule in the subscriber's time zone (`schedule: "0 8 * * *"`, daily at 08:00).
///
/// Only events with the same digest key (`key`: a payload field; default: none, so all events of the
/// type) go into one digest; nothing is ever merged across keys, tenants or subscribers.
public struct DigestSpec: Sendable, Codable, Hashable {
    public var window: String?
    public var schedule: String?
    /// A payload field whose value separates digests (`project_id`: one digest per project).
    public var key: String?

    public init(window: String? = nil, schedule: String? = nil, key: String? = nil) {
        self.window = window
        self.schedule = schedule
        self.key = key
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case window, schedule, key }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        window = try container.decodeIfPresent(String.self, forKey: .window)
        schedule = try container.decodeIfPresent(String.self, forKey: .schedule)
        key = try container.decodeIfPresent(String.self, forKey: .key)
    }

    public static let minimumWindow = 15.0 * 60
    public static let maximumWindow = 24.0 * 3600

    public func problems(prefix: String = "digest") -> [FieldError] {
        switch (window, schedule) {
        case (nil, nil), (.some, .some):
            return [FieldError(prefix, "give either window (15m to 24h) or schedule (a cron expression)")]
        case (let window?, nil):
            guard let seconds = DurationText.seconds(window) else {
                return [FieldError("\(prefix).window", "'\(window)' is not a duration like 15m or 2h")]
            }
            if seconds < Self.minimumWindow || seconds > Self.maximumWindow {
                return [FieldError("\(prefix).window", "must be between 15m and 24h")]
            }
            return []
        case (nil, let schedule?):
            do {
                _ = try CronSchedule(schedule)
                return []
            } catch {
                return [FieldError("\(prefix).schedule", error.description)]
            }
        }
    }

    /// When a digest whose first item arrived at `first` is sent, for a subscriber in `timeZone`.
    /// A window is measured in elapsed time (15 minutes are 15 minutes, whatever the clocks do); a
    /// schedule runs on the subscriber's wall clock.
    public func flushTime(firstItemAt first: Date, timeZone: TimeZone) -> Date? {
        if let window, let seconds = DurationText.seconds(window) { return first.addingTimeInterval(seconds) }
        if let schedule, let cron = try? CronSchedule(schedule) { return cron.next(after: first, in: timeZone) }
        return nil
    }

    /// The digest key of an event's payload: the `key` field's value as text, or "" for all events.
    public func digestKey(payload: [String: JSONValue]) -> String {
        guard let key else { return "" }
        guard let value = payload[key] else { return "" }
        return value.stringValue ?? value.jsonText()
    }
}
