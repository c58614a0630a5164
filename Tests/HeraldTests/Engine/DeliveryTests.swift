import Foundation
import Herald
import Testing

@Suite("Trigger to inbox", .dropsPostgresSchemas)
struct DeliveryTests {
    @Test(
        "three subscribers, one opted out of in-app: two inbox messages and one suppressed with reason preference", arguments: StoreBackend.available)
    func preferenceSuppression(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(3)
        _ = try await engine.setPreferences(
            tenantID: tenant.id, subscriberID: ids[2], rules: [PreferenceRule(eventType: "announcement_posted", channel: "in_app", enabled: false)],
            replace: true)
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "announcement_posted", recipients: ids.map(Recipient.subscriber), payload: ["title": "Pool closed", "excerpt": "Monday"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually {
                    try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).counts["delivered"] == 2
                })
            let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
            let inApp = details.messages.filter { $0.channel == .inApp }
            #expect(inApp.count == 3)
            #expect(inApp.filter { $0.status == .delivered }.map(\.subscriberId).sorted() == ["s0", "s1"])
            let suppressed = try #require(inApp.first { $0.subscriberId == "s2" })
            #expect(suppressed.status == .suppressed)
            #expect(suppressed.reason == "preference")

            let token = try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: "s0").token
            let claims = try #require(engine.verifySubscriberToken(token))
            let inbox = try await engine.inbox(claims, filter: .active, cursor: nil, limit: 10)
            #expect(inbox.items.count == 1)
            #expect(inbox.items.first?.title.contains("Pool closed") == true)
            let optedOut = try #require(
                engine.verifySubscriberToken(try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: "s2").token))
            #expect(try await engine.inboxCounts(optedOut).total == 0)
        }
    }

    @Test("a critical event reaches a subscriber who turned everything off", arguments: StoreBackend.available)
    func criticalBypassesPreferences(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        _ = try await engine.setPreferences(tenantID: tenant.id, subscriberID: ids[0], rules: [PreferenceRule(enabled: false)], replace: true)
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "emergency_alert", recipients: [.subscriber(ids[0])], payload: ["title": "Fire", "message": "Leave by the east stairs"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually {
                    try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).messages.contains {
                        $0.channel == .inApp && $0.status == .delivered
                    }
                })
            let claims = try #require(
                engine.verifySubscriberToken(try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: ids[0]).token))
            #expect(try await engine.inboxCounts(claims).unread == 1)
        }
    }

    @Test("50 concurrent identical requests with one Idempotency-Key create one event", arguments: StoreBackend.available)
    func concurrentIdempotency(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(2)
        let trigger = Trigger(type: "announcement_posted", recipients: ids.map(Recipient.subscriber), payload: ["title": "Hello", "excerpt": "x"])
        let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for _ in 0..<50 {
                group.addTask {
                    let (receipt, replayed) = try await engine.trigger(trigger, tenantID: tenant.id, idempotencyKey: "same-key")
                    return (receipt.eventId, replayed)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(results.map(\.0)).count == 1)
        #expect(results.filter { !$0.1 }.count == 1)
        let messages = try await engine.messages(tenantID: tenant.id, MessageQuery(limit: 1000))
        #expect(Set(messages.items.map(\.eventId)).count == 1)

        var changed = trigger
        changed.payload["title"] = .string("Different")
        await #expect(throws: HeraldError.self) { try await engine.trigger(changed, tenantID: tenant.id, idempotencyKey: "same-key") }
    }

    @Test("a topic fans out to every member exactly once, applying preferences", arguments: StoreBackend.available)
    func topicFanout(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.dispatch.fanoutChunkSize = 97 }
        let (tenant, ids) = try await engine.tenantWithSubscribers(1000)
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "residents", name: "Residents")
        _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "residents", subscriberIDs: ids)
        _ = try await engine.setPreferences(
            tenantID: tenant.id, subscriberID: "s5", rules: [PreferenceRule(eventType: "announcement_posted", enabled: false)], replace: true)
        try await engine.whileRunning {
            // A direct recipient who is also a topic member gets one message per channel, not two.
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "announcement_posted", recipients: [.topic("residents"), .subscriber("s1")], payload: ["title": "Hi", "excerpt": "x"]),
                tenantID: tenant.id)
            #expect(receipt.status == .fanningOut)
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId, limit: 1).counts["delivered"] == 999
                })
            let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId, limit: 1)
            #expect(details.event.status == .planned)
            #expect(details.counts["suppressed", default: 0] >= 1)
            let inApp = try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: receipt.eventId, channel: .inApp, limit: 1000))
            #expect(inApp.items.count == 1000)
            #expect(Set(inApp.items.map(\.subscriberId)).count == 1000)
        }
    }

    @Test("cancelling an event stops what has not gone out", arguments: StoreBackend.available)
    func cancellation(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(3)
        let later = Date().addingTimeInterval(3600)
        let (receipt, _) = try await engine.trigger(
            Trigger(
                type: "announcement_posted", recipients: ids.map(Recipient.subscriber), payload: ["title": "Later", "excerpt": "x"], sendAt: later),
            tenantID: tenant.id)
        let cancelled = try await engine.cancelEvent(tenantID: tenant.id, id: receipt.eventId)
        #expect(cancelled == 6)
        let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
        #expect(details.event.status == .cancelled)
        #expect(details.messages.allSatisfy { $0.status == .cancelled })
    }

    @Test("transient failures retry with backoff, then dead-letter; retry requeues and delivers", arguments: StoreBackend.available)
    func retriesAndDeadLetters(_ backend: StoreBackend) async throws {
        let failing = ScriptedChannel(kind: .email, script: Array(repeating: .transientFailure("421 try later"), count: 3))
        // A long lease: on a loaded machine a 2 s lease can expire mid-batch, and the reclaim would use up an attempt.
        let engine = try await TestEngine.make(
            {
                $0.dispatch.maxAttempts = 3
                $0.dispatch.leaseSeconds = 30
            }, channels: [failing])
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "newsletter", recipients: [.subscriber(ids[0])],
                    payload: ["issue_title": "November", "summary": "News", "url": "https://example.com/n"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually {
                    try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).messages.contains { $0.status == .deadLettered }
                })
            let email = try #require(try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).messages.first { $0.channel == .email })
            let (_, attempts) = try await engine.message(tenantID: tenant.id, id: email.id)
            #expect(attempts.count == 3)
            #expect(attempts.allSatisfy { $0.outcome == .transientFailure && $0.detail == "421 try later" })
            #expect(zip(attempts, attempts.dropFirst()).allSatisfy { $0.startedAt < $1.startedAt })

            _ = try await engine.retryMessage(tenantID: tenant.id, id: email.id)
            #expect(try await engine.eventually { try await engine.message(tenantID: tenant.id, id: email.id).0.status == .sent })
            #expect(try await engine.message(tenantID: tenant.id, id: email.id).1.count == 4)
            await #expect(throws: HeraldError.self) { try await engine.retryMessage(tenantID: tenant.id, id: email.id) }
        }
    }

    @Test("a lease left by a dead dispatcher is reclaimed and delivered once", arguments: StoreBackend.available)
    func leaseReclaim(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.dispatch.leaseSeconds = 0.3 }
        let (tenant, ids) = try await engine.tenantWithSubscribers(5)
        let (receipt, _) = try await engine.trigger(
            Trigger(type: "announcement_posted", recipients: ids.map(Recipient.subscriber), payload: ["title": "T", "excerpt": "x"]),
            tenantID: tenant.id)
        // A dispatcher that claims and then dies without recording anything.
        let now = Date()
        let claimed = try await engine.store.claimMessages(
            owner: "dead-node", scope: .all, limit: 100, now: now, leaseUntil: now.addingTimeInterval(0.3))
        #expect(claimed.messages.count == 10)
        let reclaimed = try await engine.whileRunning {
            try await engine.eventually {
                try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).counts["delivered"] == 5
            }
        }
        #expect(reclaimed)
        // The dead dispatcher's late answer is ignored: the lease is no longer its own.
        let late = try await engine.store.complete(
            claimed.messages.map {
                DeliveryOutcome(
                    rowID: $0.rowID, status: .delivered, reason: nil, retryAt: nil,
                    attempt: DeliveryAttempt(number: 1, startedAt: now, durationMs: 1, outcome: .delivered, detail: nil),
                    inbox: InboxContent(title: "dup", body: "", actionURL: nil))
            }, owner: "dead-node", now: Date())
        #expect(late.isEmpty)
    }

    @Test("typed events from a Swift app go through the same validation", arguments: StoreBackend.available)
    func typedEvents(_ backend: StoreBackend) async throws {
        struct VisitorArrival: EventKind {
            static let key = "visitor_arrival"
            var visitor_name: String
            var arrived_at: String
            var url: String
        }
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        let receipt = try await engine.send(
            VisitorArrival(visitor_name: "Ana", arrived_at: "2026-11-21T10:00:00Z", url: "https://estate.example/gate/1"), to: [.subscriber(ids[0])],
            tenantID: tenant.id)
        #expect(receipt.messages["queued", default: 0] >= 1)
        struct Wrong: EventKind {
            static let key = "visitor_arrival"
            var visitor: String
        }
        await #expect(throws: HeraldError.self) { try await engine.send(Wrong(visitor: "Ana"), to: [.subscriber(ids[0])], tenantID: tenant.id) }
    }

    @Test("retention removes expired events and messages", arguments: StoreBackend.available)
    func retention(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(2)
        let (receipt, _) = try await engine.trigger(
            Trigger(type: "announcement_posted", recipients: ids.map(Recipient.subscriber), payload: ["title": "T", "excerpt": "x"]),
            tenantID: tenant.id)
        let service = RetentionService(store: engine.store, settings: engine.configuration.dispatch, logger: engine.logger)
        let early = try await service.sweep(now: Date())
        #expect(early.messages == 0)
        let removed = try await service.sweep(now: Date().addingTimeInterval(366 * 86_400))
        #expect(removed.messages == 4)
        #expect(removed.events == 1)
        await #expect(throws: HeraldError.self) { try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId) }
    }
}
