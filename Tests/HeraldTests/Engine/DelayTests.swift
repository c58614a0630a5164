import Foundation
import Herald
import Testing

@Suite("Delayed triggers", .dropsPostgresSchemas)
struct DelayTests {
    @Test(
        "delay holds every message of the event until then; delay with send_at, or a malformed delay, is refused naming delay",
        arguments: StoreBackend.available)
    func delay(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        var trigger = Trigger(type: "announcement_posted", recipients: [.subscriber(ids[0])], payload: ["title": "Later", "excerpt": "x"])
        trigger.delay = "15m"
        let before = Date()
        let (receipt, _) = try await engine.trigger(trigger, tenantID: tenant.id)
        let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
        let held = try #require(details.messages.first { $0.channel == .inApp })
        #expect(held.status == .queued)
        let due = try #require(held.availableAt)
        #expect(due.timeIntervalSince(before) >= 899 && due.timeIntervalSince(before) < 905)

        trigger.sendAt = Date().addingTimeInterval(60)
        await #expect(throws: HeraldError.invalid([FieldError("delay", "give send_at or delay, not both")])) {
            _ = try await engine.trigger(trigger, tenantID: tenant.id)
        }
        trigger.sendAt = nil
        trigger.delay = "soon"
        await #expect(throws: HeraldError.invalid([FieldError("delay", "'soon' is not a duration like 90s, 15m, 2h or 1d")])) {
            _ = try await engine.trigger(trigger, tenantID: tenant.id)
        }
    }
}
