import Foundation

/// A recurring trigger: a cron expression on a time zone's wall clock (`0 8 * * *` in Europe/London is
/// 08:00 London time, summer and winter), and the event it triggers, usually for a topic. Each
/// occurrence runs once, however many nodes run and however often they restart.
public struct Schedule: Sendable, Codable, Hashable {
    public var id: String
    public var name: String?
    public var cron: String
    public var timezone: String
    public var trigger: Trigger
    public var enabled: Bool
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    public var lastEventId: String?
    public var lastError: String?
    public var runs: Int
    public var createdAt: Date?
    public var updatedAt: Date?
    /// The owning tenant, set on schedules a node claims to run (never part of the API's answers).
    public var tenantID: String?

    public init(id: String = "", name: String? = nil, cron: String, timezone: String = "UTC", trigger: Trigger, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.cron = cron
        self.timezone = timezone
        self.trigger = trigger
        self.enabled = enabled
        self.runs = 0
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, cron, timezone, trigger, event, enabled, runs
        case nextRunAt = "next_run_at"
        case lastRunAt = "last_run_at"
        case lastEventId = "last_event_id"
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Reads a definition as the API takes it; the trigger may be given as `trigger` or `event`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .name)
        cron = try container.decode(String.self, forKey: .cron)
        timezone = try container.decodeIfPresent(String.self, forKey: .timezone) ?? "UTC"
        if container.contains(.trigger) {
            trigger = try container.decode(Trigger.self, forKey: .trigger)
        } else if container.contains(.event) {
            trigger = try container.decode(Trigger.self, forKey: .event)
        } else {
            throw DecodingError.keyNotFound(
                CodingKeys.trigger, .init(codingPath: container.codingPath, debugDescription: "a schedule needs the trigger it runs"))
        }
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        nextRunAt = try container.decodeIfPresent(Date.self, forKey: .nextRunAt)
        lastRunAt = try container.decodeIfPresent(Date.self, forKey: .lastRunAt)
        lastEventId = try container.decodeIfPresent(String.self, forKey: .lastEventId)
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        runs = try container.decodeIfPresent(Int.self, forKey: .runs) ?? 0
        createdAt = try container.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try container.decodeIfPresent(Date.self, forKey: .updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(cron, forKey: .cron)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(enabled, forKey: .enabled)
        try container.encodeIfPresent(nextRunAt, forKey: .nextRunAt)
        try container.encodeIfPresent(lastRunAt, forKey: .lastRunAt)
        try container.encodeIfPresent(lastEventId, forKey: .lastEventId)
        try container.encodeIfPresent(lastError, forKey: .lastError)
        try container.encode(runs, forKey: .runs)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(updatedAt, forKey: .updatedAt)
    }

    public var timeZone: TimeZone? { TimeZone(identifier: timezone) }

    /// The first occurrence strictly after `date`, or nil when the expression or zone is not valid.
    public func occurrence(after date: Date) -> Date? {
        guard let zone = timeZone, let cron = try? CronSchedule(cron) else { return nil }
        return cron.next(after: date, in: zone)
    }

    /// The occurrence a run at `now` stands for: the latest one due, so a node that was down for three
    /// days runs a daily schedule once, not three times; and the one after it.
    public func dueOccurrence(now: Date) -> (run: Date, next: Date)? {
        guard var run = nextRunAt, run <= now else { return nil }
        var steps = 0
        while let next = occurrence(after: run), steps < 100_000 {
            if next > now { return (run, next) }
            run = next
            steps += 1
        }
        return nil
    }
}
