import Foundation

/// How long a ``WorkflowStep`` waits: a duration (`15m`, `1h30m`), or until the next time of day on the
/// subscriber's clock (`wait_until: "09:00"`, in their time zone, UTC when they have none); and what
/// ends it early.
public struct WaitSpec: Sendable, Codable, Hashable {
    /// What, happening to any message of this event for the recipient, ends the wait and the run:
    /// the notice was acted on, so escalating is no longer needed. `read` and `seen` happen in the inbox,
    /// `opened` to a tracked email, `clicked` to either (an inbox item's link, a tracked email link).
    public enum Until: String, Sendable, Codable, Hashable, CaseIterable {
        case read, seen, clicked, delivered, opened

        /// The channels on which it can happen; nil for any (`delivered`).
        public var channels: [ChannelKind]? {
            switch self {
            case .read, .seen: [.inApp]
            case .clicked: [.inApp, .email]
            case .opened: [.email]
            case .delivered: nil
            }
        }
    }

    public var duration: String?
    public var timeOfDay: String?
    public var until: Until?

    public init(duration: String? = nil, timeOfDay: String? = nil, until: Until? = nil) {
        self.duration = duration
        self.timeOfDay = timeOfDay
        self.until = until
    }

    /// The duration in seconds, when given as one.
    public var seconds: Double? { duration.flatMap(DurationText.seconds) }

    /// `09:00` as hour and minute, when given as a time of day.
    public var clockTime: (hour: Int, minute: Int)? {
        guard let text = timeOfDay else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return (hour, minute)
    }

    /// When a wait that starts at `start` ends, for a subscriber in `timeZone`: nil when the spec is not valid.
    public func end(from start: Date, timeZone: TimeZone) -> Date? {
        if let seconds { return start.addingTimeInterval(seconds) }
        guard let (hour, minute) = clockTime else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.nextDate(
            after: start, matching: DateComponents(hour: hour, minute: minute, second: 0), matchingPolicy: .nextTime, direction: .forward)
    }
}
