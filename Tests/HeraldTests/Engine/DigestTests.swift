import Foundation
import Herald
import Testing

/// Digests through a running engine, with a clock the tests move over the window.
@Suite("Digests", .dropsPostgresSchemas)
struct DigestTests {
    /// An in-app type collected over 15 minutes; its digest lists the items' `seq` numbers, so a test can
    /// check every digest holds exactly its own events.
    static func digestType(_ key: String = "activity", digestKey: String? = nil) -> EventType {
        FlowControlTests.activityType(key) {
            $0.parameters["project"] = ParameterSpec(type: .string, required: false)
            $0.digest = DigestSpec(window: "15m", key: digestKey)
            $0.digestTemplates = [.inApp: ["en": ["title": "{{count}} updates", "body": "{{#items}}{{seq}},{{/items}}"]]]
        }
    }

    /// Each delivered inbox item of a subscriber, as the set of `seq` numbers its digest lists.
    static func digests(_ engine: HeraldEngine, tenantID: String, subscriberID: String) async throws -> [[Int]] {
        let (_, claims) = try await engine.claims(tenantID: tenantID, subscriberID: subscriberID)
        return try await engine.inbox(claims, filter: .all, cursor: nil, limit: 100).items.map { item in
            item.body.split(separator: ",").compactMap { Int($0) }
        }
    }

    @Test(
        "10,000 events for 100 subscribers under a 15-minute digest: one digest per subscriber per window, each with exactly its own items",
        arguments: StoreBackend.available)
    func exactness(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let engine = try await FlowControlTests.engine(on: backend, [Self.digestType()], clock: clock)
        let (tenant, subscribers) = try await engine.tenantWithSubscribers(100)
        try await engine.whileRunning {
            // Window one: 10,000 events over five minutes of the test clock, subscriber seq % 100. The test clock runs
            // on with real time, so the bulk triggers have ten real minutes before the 15-minute window could close
            // under them (with ten test minutes they had five, which a loaded two-core machine on PostgreSQL overran).
            var seq = 0
            for _ in 0..<10 {
                var batch: [Trigger] = []
                for _ in 0..<1000 {
                    batch.append(Trigger(type: "activity", recipients: [.subscriber(subscribers[seq % 100])], payload: ["seq": .number(Double(seq))]))
                    seq += 1
                }
                _ = try await engine.triggerBulk(batch, tenantID: tenant.id)
                clock.advance(by: 30)
            }
            // Nothing is delivered while the window is open.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items.isEmpty)
            let merged = try await engine.messages(tenantID: tenant.id, MessageQuery(status: .merged, limit: 1)).items
            #expect(merged.first?.reason == "digest")
            #expect(merged.first?.digestMessageId != nil)
            #expect(merged.first?.heldUntil != nil, "a merged item says when its digest goes")

            // Past the window: every subscriber's first digest goes.
            clock.advance(by: 11 * 60)
            #expect(
                try await engine.eventually(timeout: 60) {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 200)).items.count == 100
                })
            // Window two: 5 events each, arriving after the first digest closed.
            var second: [Trigger] = []
            for index in 0..<500 {
                second.append(
                    Trigger(type: "activity", recipients: [.subscriber(subscribers[index % 100])], payload: ["seq": .number(Double(seq + index))]))
            }
            _ = try await engine.triggerBulk(second, tenantID: tenant.id)
            clock.advance(by: 16 * 60)
            #expect(
                try await engine.eventually(timeout: 60) {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 300)).items.count == 200
                })
            for (index, subscriber) in subscribers.enumerated() {
                let digests = try await Self.digests(engine, tenantID: tenant.id, subscriberID: subscriber)
                #expect(digests.count == 2, "one digest per window for \(subscriber)")
                let expectedFirst = Set(stride(from: index, to: 10_000, by: 100))
                let expectedSecond = Set(stride(from: 10_000 + index, to: 10_500, by: 100))
                let all = digests.flatMap { $0 }
                #expect(all.count == Set(all).count, "no item twice for \(subscriber)")
                #expect(Set(digests.map { Set($0) }) == [expectedFirst, expectedSecond], "exactly its own items for \(subscriber)")
            }
        }
    }

    @Test("digest keys keep digests apart; a cancelled item leaves its digest, which goes without it", arguments: StoreBackend.available)
    func keysAndCancellation(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let engine = try await FlowControlTests.engine(on: backend, [Self.digestType(digestKey: "project")], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Keys")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        try await engine.whileRunning {
            var ids: [Int: String] = [:]
            for (seq, project) in [(1, "p1"), (2, "p2"), (3, "p1"), (4, "p1")] {
                ids[seq] = try await engine.trigger(
                    Trigger(type: "activity", recipients: [.subscriber("ana")], payload: ["seq": .number(Double(seq)), "project": .string(project)]),
                    tenantID: tenant.id
                ).0.eventId
            }
            _ = try await engine.cancelEvent(tenantID: tenant.id, id: ids[1]!)
            _ = try await engine.cancelEvent(tenantID: tenant.id, id: ids[3]!)
            clock.advance(by: 16 * 60)
            #expect(
                try await engine.eventually {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items.count == 2
                })
            let digests = try await Self.digests(engine, tenantID: tenant.id, subscriberID: "ana")
            #expect(Set(digests) == [[4], [2]], "p1 without the cancelled 1 and 3; p2 on its own")
        }
    }

    @Test("a subscriber's preference asks for a digest instead of immediate delivery, for low-priority types only", arguments: StoreBackend.available)
    func digestPreference(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let low = FlowControlTests.activityType("comment_added")
        let medium = FlowControlTests.activityType("review_requested", priority: .medium)
        let engine = try await FlowControlTests.engine(on: backend, [low, medium], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Prefs")
        for id in ["bundler", "eager"] { _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id)) }
        _ = try await engine.setPreferences(
            tenantID: tenant.id, subscriberID: "bundler",
            rules: [PreferenceRule(eventType: "*", channel: "in_app", enabled: true, digest: DigestSpec(window: "1h"))], replace: true)
        let stored = try await engine.preferences(tenantID: tenant.id, subscriberID: "bundler")
        #expect(stored.rules.first?.digest == DigestSpec(window: "1h"), "the rule keeps its digest")
        await #expect(throws: HeraldError.self) {
            _ = try await engine.setPreferences(
                tenantID: tenant.id, subscriberID: "bundler",
                rules: [PreferenceRule(eventType: "*", channel: "in_app", enabled: true, digest: DigestSpec(window: "5m"))], replace: true)
        }
        try await engine.whileRunning {
            for seq in 1...3 {
                _ = try await engine.trigger(
                    Trigger(
                        type: "comment_added", recipients: [.subscriber("bundler"), .subscriber("eager")], payload: ["seq": .number(Double(seq))]),
                    tenantID: tenant.id)
            }
            _ = try await engine.trigger(
                Trigger(type: "review_requested", recipients: [.subscriber("bundler")], payload: ["seq": 9]), tenantID: tenant.id)
            #expect(
                try await engine.eventually {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items.count == 4
                })
            let early = try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items
            #expect(early.filter { $0.subscriberId == "eager" }.count == 3, "no preference: each comment at once")
            #expect(early.filter { $0.subscriberId == "bundler" }.map(\.eventType) == ["review_requested"], "medium priority is not digested")
            clock.advance(by: 3601)
            #expect(
                try await engine.eventually {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items.count == 5
                })
            let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "bundler")
            let titles = try await engine.inbox(claims, filter: .all, cursor: nil, limit: 10).items.map(\.title)
            #expect(titles.contains("comment_added: 3 new"), "one built-in digest of the three comments")
        }
    }
}
