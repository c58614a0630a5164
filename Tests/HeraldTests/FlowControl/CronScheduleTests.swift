import Foundation
import Herald
import Testing

@Suite("Cron schedules in a time zone")
struct CronScheduleTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var cron: String
        var zone: String
        var after: String
        var next: [String]
        var testDescription: String { "\(cron) in \(zone) after \(after)" }
    }

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test(
        "the next runs",
        arguments: [
            // Daily at 08:00 London: 08:00 GMT in winter, 07:00 UTC once summer time starts on 29 March.
            Case(
                cron: "0 8 * * *", zone: "Europe/London", after: "2026-03-27T12:00:00Z",
                next: ["2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"]),
            // …and back to 08:00 UTC after 25 October.
            Case(
                cron: "@daily", zone: "Europe/London", after: "2026-10-24T12:00:00Z",
                next: ["2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z"]),
            // Weekly report, Mondays 09:00 in New York, across the November change.
            Case(
                cron: "0 9 * * MON", zone: "America/New_York", after: "2026-10-27T00:00:00Z",
                next: ["2026-11-02T14:00:00Z", "2026-11-09T14:00:00Z"]),
            // 02:30 does not exist in New York on 8 March 2026: it runs once, at 03:00 EDT.
            Case(
                cron: "30 2 * * *", zone: "America/New_York", after: "2026-03-07T12:00:00Z",
                next: ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]),
            // 01:30 happens twice in New York on 1 November 2026: it runs once, the first time (EDT).
            Case(
                cron: "30 1 * * *", zone: "America/New_York", after: "2026-10-31T12:00:00Z",
                next: ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]),
            // Every 15 minutes, weekdays 9 to 17.
            Case(
                cron: "*/15 9-17 * * MON-FRI", zone: "UTC", after: "2026-11-20T17:40:00Z",
                next: ["2026-11-20T17:45:00Z", "2026-11-23T09:00:00Z", "2026-11-23T09:15:00Z"]),
            // Day of month or day of week (both restricted): the 1st and every Sunday.
            Case(
                cron: "0 12 1 * SUN", zone: "UTC", after: "2026-11-27T00:00:00Z",
                next: ["2026-11-29T12:00:00Z", "2026-12-01T12:00:00Z", "2026-12-06T12:00:00Z"]),
            // 29 February only in leap years.
            Case(cron: "0 0 29 2 *", zone: "UTC", after: "2026-01-01T00:00:00Z", next: ["2028-02-29T00:00:00Z"]),
        ])
    func nextRuns(_ example: Case) throws {
        let schedule = try CronSchedule(example.cron)
        let zone = try #require(TimeZone(identifier: example.zone))
        var after = Self.date(example.after)
        var runs: [Date] = []
        for _ in example.next {
            guard let next = schedule.next(after: after, in: zone) else { break }
            runs.append(next)
            after = next
        }
        #expect(runs == example.next.map(Self.date))
    }

    @Test(
        "malformed expressions say what is wrong",
        arguments: [
            ("0 8 * *", "has 4 fields"), ("61 * * * *", "minute '61'"), ("0 24 * * *", "hour '24'"), ("0 0 * * FUNDAY", "day of week 'FUNDAY'"),
            ("*/0 * * * *", "step"), ("0 0 5-1 * *", "runs backwards"), ("0 0 1,,2 * *", "empty list item"),
        ])
    func malformed(_ example: (String, String)) {
        #expect {
            _ = try CronSchedule(example.0)
        } throws: { error in
            "\(error)".contains(example.1)
        }
    }

    @Test("an impossible date has no next run")
    func impossible() throws {
        #expect(try CronSchedule("0 0 30 2 *").next(after: Self.date("2026-01-01T00:00:00Z"), in: .gmt) == nil)
    }
}

@Suite("Schedule occurrences")
struct ScheduleOccurrenceTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func daily(_ zone: String, next: String) -> Schedule {
        var schedule = Schedule(cron: "0 8 * * *", timezone: zone, trigger: Trigger(type: "daily_summary", recipients: [.topic("all")]))
        schedule.nextRunAt = date(next)
        return schedule
    }

    @Test(
        "which occurrence a run stands for, and the next one",
        arguments: [
            // Not due yet.
            ("Europe/London", "2026-03-28T08:00:00Z", "2026-03-28T07:59:59Z", nil, nil),
            // Due: the next is 08:00 London the day after clocks go forward (07:00 UTC).
            ("Europe/London", "2026-03-28T08:00:00Z", "2026-03-28T08:00:01Z", "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"),
            // New York falls back on 1 November: 08:00 EDT, then 08:00 EST.
            ("America/New_York", "2026-10-31T12:00:00Z", "2026-10-31T12:00:00Z", "2026-10-31T12:00:00Z", "2026-11-01T13:00:00Z"),
            // Three mornings missed: one run, for the latest.
            ("UTC", "2026-11-20T08:00:00Z", "2026-11-23T09:30:00Z", "2026-11-23T08:00:00Z", "2026-11-24T08:00:00Z"),
        ] as [(String, String, String, String?, String?)])
    func occurrences(_ example: (String, String, String, String?, String?)) {
        let due = Self.daily(example.0, next: example.1).dueOccurrence(now: Self.date(example.2))
        #expect(due?.run == example.3.map(Self.date))
        #expect(due?.next == example.4.map(Self.date))
    }
}
