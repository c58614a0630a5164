import Foundation
import Herald
import Testing

/// Dedup, rate limits, digests, cancellation keys and routing, end to end through a running engine whose
/// clock the tests move forward.
@Suite("Flow control", .dropsPostgresSchemas)
struct FlowControlTests {
    /// An in-app type whose messages show their `seq`, so a test can tell exactly which events reached whom.
    static func activityType(_ key: String, priority: Priority = .low, _ configure: (inout EventType) -> Void = { _ in }) -> EventType {
        var type = EventType(
            key: key, priority: priority, channels: [.inApp],
            parameters: ["seq": ParameterSpec(type: .integer, required: true), "ref": ParameterSpec(type: .string, required: false)],
            templates: [.inApp: ["en": ["title": "Item {{seq}}", "body": "Item {{seq}} happened"]]])
        configure(&type)
        return type
    }

    static func engine(on backend: StoreBackend = .sqlite, _ types: [EventType], clock: TestClock, database: URL? = nil) async throws
        -> HeraldEngine
    {
        try await TestEngine.make(on: backend, { $0.eventTypes += types }, database: database, clock: clock.herald)
    }

    static func inApp(_ engine: HeraldEngine, tenantID: String, eventID: String) async throws -> [Message] {
        try await engine.eventDetails(tenantID: tenantID, id: eventID).messages.filter { $0.channel == .inApp }
    }

    @Test(
        "a repeat within the dedup window is suppressed as duplicate, pointing at the original; after the window it is sent",
        arguments: StoreBackend.available)
    func dedup(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let type = Self.activityType("payment_failed") { $0.dedup = DedupSpec(window: "10m", fields: ["ref"]) }
        let engine = try await Self.engine(on: backend, [type], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Dedup")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        func trigger(_ seq: Int, ref: String) async throws -> TriggerReceipt {
            try await engine.trigger(
                Trigger(type: "payment_failed", recipients: [.subscriber("ana")], payload: ["seq": .number(Double(seq)), "ref": .string(ref)]),
                tenantID: tenant.id
            ).0
        }
        func send(_ seq: Int, ref: String) async throws -> String { try await trigger(seq, ref: ref).eventId }
        let first = try await send(1, ref: "inv-1")
        let repeatedReceipt = try await trigger(2, ref: "inv-1")
        #expect(repeatedReceipt.messages == ["suppressed": 1], "the trigger's answer already says it was suppressed")
        let repeated = repeatedReceipt.eventId
        let other = try await send(3, ref: "inv-2")
        let original = try #require(try await Self.inApp(engine, tenantID: tenant.id, eventID: first).first)
        let duplicate = try #require(try await Self.inApp(engine, tenantID: tenant.id, eventID: repeated).first)
        #expect(original.status == .queued)
        #expect(duplicate.status == .suppressed)
        #expect(duplicate.reason == "duplicate")
        #expect(duplicate.duplicateOf == original.id)
        #expect(try await Self.inApp(engine, tenantID: tenant.id, eventID: other).first?.status == .queued, "another ref is another event")
        clock.advance(by: 601)
        let later = try await send(4, ref: "inv-1")
        #expect(try await Self.inApp(engine, tenantID: tenant.id, eventID: later).first?.status == .queued, "the window is over")
    }

    @Test(
        "10 an hour per subscriber: exactly 10 go, the rest are suppressed; a critical event in the same hour goes through",
        arguments: StoreBackend.available)
    func rateLimitSuppress(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let type = Self.activityType("chatty") {
            $0.rateLimit = RateLimit(limit: 10, period: "1h")
            $0.onLimit = .suppress
        }
        let engine = try await Self.engine(on: backend, [type], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Limits")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        try await engine.whileRunning {
            var sent: [String] = []
            for seq in 1...15 {
                sent.append(
                    try await engine.trigger(
                        Trigger(type: "chatty", recipients: [.subscriber("ana")], payload: ["seq": .number(Double(seq))]), tenantID: tenant.id
                    ).0.eventId)
            }
            let ids = sent
            let (alert, _) = try await engine.trigger(
                Trigger(type: "emergency_alert", recipients: [.subscriber("ana")], payload: ["title": "Fire", "message": "Leave now"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually {
                    try await Self.inApp(engine, tenantID: tenant.id, eventID: alert.eventId).first?.status == .delivered
                })
            #expect(
                try await engine.eventually {
                    var delivered = 0
                    for id in ids {
                        delivered += try await Self.inApp(engine, tenantID: tenant.id, eventID: id).filter { $0.status == .delivered }.count
                    }
                    return delivered == 10
                })
            let suppressed = try await engine.messages(tenantID: tenant.id, MessageQuery(status: .suppressed, limit: 100)).items.filter {
                $0.eventType == "chatty"
            }
            #expect(suppressed.count == 5)
            #expect(suppressed.allSatisfy { $0.reason == "rate_limited" })
            #expect(Set(suppressed.map(\.eventId)) == Set(ids.suffix(5)), "the first ten went, the last five did not")
        }
    }

    @Test(
        "over the limit with defer: queued with reason rate_limited until a token is earned, then delivered; nothing is lost",
        arguments: StoreBackend.available)
    func rateLimitDefer(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let type = Self.activityType("chatty") { $0.rateLimit = RateLimit(limit: 10, period: "1h") }
        let engine = try await Self.engine(on: backend, [type], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Limits")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        try await engine.whileRunning {
            var first: String?
            for seq in 1...13 {
                let id = try await engine.trigger(
                    Trigger(type: "chatty", recipients: [.subscriber("ana")], payload: ["seq": .number(Double(seq))]), tenantID: tenant.id
                ).0.eventId
                if first == nil { first = id }
            }
            // The bucket started full with the first message; each later token is earned six minutes after the last.
            let start = try await engine.eventDetails(tenantID: tenant.id, id: first!).event.createdAt
            #expect(
                try await engine.eventually {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 100)).items.count == 10
                })
            let held = try await engine.messages(tenantID: tenant.id, MessageQuery(status: .queued, limit: 100)).items.sorted { $0.id < $1.id }
            #expect(held.count == 3)
            #expect(held.allSatisfy { $0.reason == "rate_limited" })
            let waits = held.compactMap { $0.heldUntil?.timeIntervalSince(start) }.sorted()
            #expect(waits.count == 3)
            for (index, wait) in waits.enumerated() {
                #expect(abs(wait - Double(index + 1) * 360) < 0.01, "one more every six minutes")
            }
            clock.advance(by: 19 * 60)
            #expect(
                try await engine.eventually {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 100)).items.count == 13
                })
        }
    }

    @Test("a cancellation key cancels every pending message of its workflow, and only those", arguments: StoreBackend.available)
    func cancellationKey(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let engine = try await Self.engine(on: backend, [Self.activityType("payment_reminder")], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Cancel")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        var reminders: [String] = []
        for (seq, delay) in [(1, "1d"), (2, "3d"), (3, "7d")] {
            var trigger = Trigger(type: "payment_reminder", recipients: [.subscriber("ana")], payload: ["seq": .number(Double(seq))])
            trigger.delay = delay
            trigger.cancellationKey = "invoice-42"
            reminders.append(try await engine.trigger(trigger, tenantID: tenant.id).0.eventId)
        }
        var other = Trigger(type: "payment_reminder", recipients: [.subscriber("ana")], payload: ["seq": 4])
        other.delay = "1d"
        other.cancellationKey = "invoice-43"
        let otherID = try await engine.trigger(other, tenantID: tenant.id).0.eventId

        let result = try await engine.cancelEvents(tenantID: tenant.id, cancellationKey: "invoice-42")
        #expect(result.events == reminders)
        #expect(result.messages == 3)
        for id in reminders {
            #expect(try await engine.eventDetails(tenantID: tenant.id, id: id).event.status == .cancelled)
            #expect(try await Self.inApp(engine, tenantID: tenant.id, eventID: id).first?.status == .cancelled)
        }
        let untouched = try #require(try await Self.inApp(engine, tenantID: tenant.id, eventID: otherID).first)
        #expect(untouched.status == .queued)
        #expect(untouched.heldUntil != nil, "a delayed message says until when")
        #expect(try await engine.cancelEvents(tenantID: tenant.id, cancellationKey: "invoice-42").messages == 0, "cancelling again changes nothing")
    }

    @Test("an event type's audience routes a trigger without recipients; named recipients replace it", arguments: StoreBackend.available)
    func audience(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let type = Self.activityType("ticket_assigned", priority: .medium) {
            $0.parameters["assignee_id"] = ParameterSpec(type: .string, required: true)
            $0.parameters["reporter_id"] = ParameterSpec(type: .string, required: false)
            $0.audience = AudienceSpec(subscriberFields: ["assignee_id", "reporter_id"])
        }
        let engine = try await Self.engine(on: backend, [type], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Tracker")
        for id in ["ana", "bo", "cy"] { _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id)) }
        let routed = try await engine.trigger(
            Trigger(type: "ticket_assigned", recipients: [], payload: ["seq": 1, "assignee_id": "ana", "reporter_id": "bo"]), tenantID: tenant.id
        ).0
        #expect(Set(try await Self.inApp(engine, tenantID: tenant.id, eventID: routed.eventId).map(\.subscriberId)) == ["ana", "bo"])
        let explicit = try await engine.trigger(
            Trigger(type: "ticket_assigned", recipients: [.subscriber("cy")], payload: ["seq": 2, "assignee_id": "ana"]), tenantID: tenant.id
        ).0
        #expect(try await Self.inApp(engine, tenantID: tenant.id, eventID: explicit.eventId).map(\.subscriberId) == ["cy"])
        await #expect(throws: HeraldError.self) {
            _ = try await engine.trigger(Trigger(type: "payment_failed_unknown", recipients: [], payload: [:]), tenantID: tenant.id)
        }
    }
}
