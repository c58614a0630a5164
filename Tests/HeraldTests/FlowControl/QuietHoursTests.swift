import Foundation
import Herald
import Testing

@Suite("Quiet hours, in the subscriber's own time zone")
struct QuietHoursTests {
    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var window: (String, String)
        var zone: String
        var at: String
        var release: String?
        var testDescription: String { "\(window.0)–\(window.1) \(zone) at \(at) → \(release ?? "now")" }
    }

    @Test(
        "when a message due at a moment may go",
        arguments: [
            // Across midnight, ordinary nights.
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-01-10T21:59:00Z", release: nil),
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-01-10T22:00:00Z", release: "2026-01-11T07:00:00Z"),
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-01-11T03:00:00Z", release: "2026-01-11T07:00:00Z"),
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-01-11T07:00:00Z", release: nil),
            // Summer time in London: 22:00 BST is 21:00 UTC.
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-07-01T21:30:00Z", release: "2026-07-02T06:00:00Z"),
            // The night the clocks go forward (29 March 2026, 01:00 GMT → 02:00 BST): 07:00 BST is 06:00 UTC.
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-03-28T23:30:00Z", release: "2026-03-29T06:00:00Z"),
            // The night the clocks go back (25 October 2026, 02:00 BST → 01:00 GMT): 07:00 GMT is 07:00 UTC.
            Case(window: ("22:00", "07:00"), zone: "Europe/London", at: "2026-10-24T21:30:00Z", release: "2026-10-25T07:00:00Z"),
            // New York, spring forward (8 March 2026, 02:00 EST → 03:00 EDT): 07:00 EDT is 11:00 UTC.
            Case(window: ("22:00", "07:00"), zone: "America/New_York", at: "2026-03-08T05:00:00Z", release: "2026-03-08T11:00:00Z"),
            // New York, fall back (1 November 2026): 07:00 EST is 12:00 UTC.
            Case(window: ("22:00", "07:00"), zone: "America/New_York", at: "2026-11-01T04:30:00Z", release: "2026-11-01T12:00:00Z"),
            // An end inside the spring-forward gap (02:30 does not exist in New York on 8 March): released at 03:00 EDT.
            Case(window: ("23:00", "02:30"), zone: "America/New_York", at: "2026-03-08T05:00:00Z", release: "2026-03-08T07:00:00Z"),
            // A window within one day.
            Case(window: ("13:00", "14:00"), zone: "Asia/Tokyo", at: "2026-05-01T04:30:00Z", release: "2026-05-01T05:00:00Z"),
            Case(window: ("13:00", "14:00"), zone: "Asia/Tokyo", at: "2026-05-01T05:00:00Z", release: nil),
        ])
    func release(_ example: Case) throws {
        let quiet = QuietHours(start: example.window.0, end: example.window.1)
        let zone = try #require(TimeZone(identifier: example.zone))
        let release = quiet.release(after: Self.date(example.at), timeZone: zone)
        #expect(release == example.release.map(Self.date))
    }

    @Test("malformed times name their field; a window of zero length is refused")
    func validation() {
        #expect(QuietHours(start: "22:00", end: "07:00").problems().isEmpty)
        #expect(QuietHours(start: "25:00", end: "7:00").problems().map(\.field) == ["quiet_hours.start", "quiet_hours.end"])
        #expect(QuietHours(start: "08:00", end: "08:00").problems().map(\.field) == ["quiet_hours.end"])
        #expect(QuietHours(start: "22:00", end: "07:00", channels: [.sms]).applies(to: .sms))
        #expect(!QuietHours(start: "22:00", end: "07:00", channels: [.sms]).applies(to: .email))
    }
}
