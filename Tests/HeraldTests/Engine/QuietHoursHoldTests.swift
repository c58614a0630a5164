import Foundation
import Herald
import Testing

@Suite("Quiet hours hold messages", .dropsPostgresSchemas)
struct QuietHoursHoldTests {
    /// A window around the present moment, on a UTC subscriber's clock: now is inside it.
    static func windowAroundNow() -> (QuietHours, end: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = Date()
        // Whole minutes, as quiet hours are written.
        func minute(_ date: Date) -> Date { calendar.date(from: calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date))! }
        func hhmm(_ date: Date) -> String {
            let parts = calendar.dateComponents([.hour, .minute], from: date)
            return String(format: "%02d:%02d", parts.hour!, parts.minute!)
        }
        let start = minute(now.addingTimeInterval(-3600))
        let end = minute(now.addingTimeInterval(3600))
        return (QuietHours(start: hhmm(start), end: hhmm(end)), end)
    }

    @Test(
        "a non-critical message due in quiet hours is queued until they end, with reason quiet_hours; a critical one goes at once",
        arguments: StoreBackend.available)
    func hold(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, _) = try await engine.createTenant(name: "Quiet")
        let (quiet, end) = Self.windowAroundNow()
        var input = SubscriberInput(id: "sleeper", timezone: "UTC")
        input.quietHours = .some(quiet)
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, input)
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "awake", timezone: "UTC"))
        try await engine.whileRunning {
            let (held, _) = try await engine.trigger(
                Trigger(
                    type: "announcement_posted", recipients: [.subscriber("sleeper"), .subscriber("awake")],
                    payload: ["title": "Pool", "excerpt": "x"]),
                tenantID: tenant.id)
            let (urgent, _) = try await engine.trigger(
                Trigger(type: "emergency_alert", recipients: [.subscriber("sleeper")], payload: ["title": "Fire", "message": "Leave now"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually {
                    try await engine.eventDetails(tenantID: tenant.id, id: urgent.eventId).messages.contains {
                        $0.channel == .inApp && $0.status == .delivered
                    }
                })
            #expect(
                try await engine.eventually {
                    try await engine.eventDetails(tenantID: tenant.id, id: held.eventId).messages.contains {
                        $0.subscriberId == "awake" && $0.channel == .inApp && $0.status == .delivered
                    }
                })
            let details = try await engine.eventDetails(tenantID: tenant.id, id: held.eventId)
            let sleeping = try #require(details.messages.first { $0.subscriberId == "sleeper" && $0.channel == .inApp })
            #expect(sleeping.status == .queued)
            #expect(sleeping.reason == "quiet_hours")
            #expect(sleeping.availableAt == end, "held until the window ends on the subscriber's clock")
        }
    }
}
