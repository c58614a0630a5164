import Foundation
import Herald
import Testing

@Suite("Digest windows")
struct DigestSpecTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test(
        "when a digest is sent",
        arguments: [
            (DigestSpec(window: "15m"), "UTC", "2026-11-21T10:07:00Z", "2026-11-21T10:22:00Z"),
            // A 24-hour window over the night London's clocks go forward is 24 elapsed hours (13:00 BST the next day).
            (DigestSpec(window: "24h"), "Europe/London", "2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"),
            // Daily at 08:00 on the subscriber's clock, before and after the change.
            (DigestSpec(schedule: "0 8 * * *"), "Europe/London", "2026-03-28T09:00:00Z", "2026-03-29T07:00:00Z"),
            (DigestSpec(schedule: "0 8 * * *"), "America/New_York", "2026-11-01T02:00:00Z", "2026-11-01T13:00:00Z"),
        ])
    func flush(_ example: (DigestSpec, String, String, String)) throws {
        let zone = try #require(TimeZone(identifier: example.1))
        #expect(example.0.flushTime(firstItemAt: Self.date(example.2), timeZone: zone) == Self.date(example.3))
    }

    @Test("windows outside 15 minutes to 24 hours, both or neither, and bad schedules are refused")
    func validation() {
        #expect(DigestSpec(window: "15m").problems().isEmpty)
        #expect(DigestSpec(schedule: "0 8 * * *").problems().isEmpty)
        #expect(DigestSpec(window: "10m").problems().map(\.field) == ["digest.window"])
        #expect(DigestSpec(window: "25h").problems().map(\.field) == ["digest.window"])
        #expect(DigestSpec().problems().map(\.field) == ["digest"])
        #expect(DigestSpec(window: "1h", schedule: "@daily").problems().map(\.field) == ["digest"])
        #expect(DigestSpec(schedule: "0 25 * * *").problems().map(\.field) == ["digest.schedule"])
    }

    @Test("the digest key separates events by a payload field")
    func keys() {
        let spec = DigestSpec(window: "1h", key: "project_id")
        #expect(spec.digestKey(payload: ["project_id": "p1", "x": 1]) == "p1")
        #expect(spec.digestKey(payload: ["project_id": 42]) == "42")
        #expect(spec.digestKey(payload: [:]) == "")
        #expect(DigestSpec(window: "1h").digestKey(payload: ["project_id": "p1"]) == "")
    }
}
