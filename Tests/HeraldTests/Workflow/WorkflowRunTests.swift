import Foundation
import Herald
import Testing

/// Workflows through a running engine, with a clock the tests move over the waits.
@Suite("Workflow runs", .dropsPostgresSchemas)
struct WorkflowRunTests {
    /// `in_app → wait 15m until read → email`: the escalation every team asked for.
    static func escalationType(_ key: String = "issue_escalated", priority: Priority = .medium, _ steps: [WorkflowStep]? = nil) throws -> EventType {
        var type = EventType(
            key: key, priority: priority, channels: [.inApp, .email, .sms],
            parameters: ["issue": ParameterSpec(type: .string, required: true), "severity": ParameterSpec(type: .string, required: false)],
            templates: [
                .inApp: ["en": ["title": "Issue {{issue}}", "body": "Issue {{issue}} is yours"]],
                .email: ["en": ["subject": "Issue {{issue}}", "text": "Issue {{issue}} is still unread", "html": "<p>Issue {{issue}} is still unread</p>"]],
                .sms: ["en": ["text": "Issue {{issue}}"]],
            ])
        type.workflow = Workflow(
            steps: try steps ?? [
                WorkflowStep(.send([.inApp], .all)),
                WorkflowStep(.wait(WaitSpec(duration: "15m", until: .read))),
                WorkflowStep(.send([.email], .all), if: try WorkflowCondition(parsing: "subscriber.email != null")),
            ])
        return type
    }

    static func engine(on backend: StoreBackend, _ types: [EventType], clock: TestClock, database: URL? = nil) async throws -> HeraldEngine {
        try await TestEngine.make(on: backend, { $0.eventTypes += types }, database: database, clock: clock.herald)
    }

    @Test("a run sends in-app, waits, and escalates by email only when the in-app message was not read", arguments: StoreBackend.available)
    func escalation(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let engine = try await Self.engine(on: backend, [try Self.escalationType()], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Escalation")
        for id in ["reader", "ignorer"] {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id, email: "\(id)@example.com"))
        }
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "issue_escalated", recipients: [.subscriber("reader"), .subscriber("ignorer")], payload: ["issue": "HR-7"]),
                tenantID: tenant.id)
            #expect(receipt.workflowRuns == 2)
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).messages.filter { $0.status == .delivered }.count == 2
                })
            let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "reader")
            let item = try #require(try await engine.inbox(claims, filter: .all, cursor: nil, limit: 10).items.first)
            _ = try await engine.markRead(claims, messageID: item.id)
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.workflowRuns(tenantID: tenant.id, eventID: receipt.eventId, subscriberID: "reader", cursor: nil, limit: 1)
                        .items.first?.status == .completed
                })
            clock.advance(by: 16 * 60)
            #expect(
                try await engine.eventually(timeout: 20) {
                    let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
                    return details.workflow?.counts["completed"] == 2 && details.messages.contains { $0.channel == .email && $0.status == .sent }
                })
            let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
            let emails = details.messages.filter { $0.channel == .email }
            #expect(emails.map(\.subscriberId) == ["ignorer"], "only the one who did not read is escalated to")
            let reader = try #require(details.workflow?.runs.first { $0.subscriberId == "reader" })
            #expect(reader.outcome == "read")
            #expect(reader.steps.map(\.status) == ["done", "done", "skipped"])
            #expect(reader.steps[2].reason == "read_before_wait_ended")
            let ignorer = try #require(details.workflow?.runs.first { $0.subscriberId == "ignorer" })
            #expect(ignorer.outcome == "finished")
            #expect(ignorer.steps.map(\.status) == ["done", "done", "done"])
            #expect(ignorer.steps[1].reason == "waited")
            #expect(ignorer.steps[2].messages.map(\.channel) == [.email])
        }
    }
}
