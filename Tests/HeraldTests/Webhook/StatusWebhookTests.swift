import Foundation
import Herald
import Testing

/// Delivery-status webhooks: `message.sent`, `message.delivered`, `message.failed` and `message.read`
/// reach the status endpoints that subscribe to them, signed, each exactly once, and are retried from
/// the durable queue until the receiver takes them.
@Suite("Delivery-status webhooks", .serialized, .dropsPostgresSchemas)
struct StatusWebhookTests {
    /// In-app (delivered), email to the outbox (sent) and a webhook to an endpoint that refuses it (failed).
    static let notice = EventType(
        key: "notice", name: "Notice", priority: .high, channels: [.inApp, .email, .webhook],
        parameters: ["n": ParameterSpec(type: .integer)],
        templates: [
            .inApp: ["en": ["title": "Notice {{n}}", "body": "Notice {{n}} for {{subscriber.name}}"]],
            .email: ["en": ["subject": "Notice {{n}}", "html": "<p>Notice {{n}}</p>"]],
            .webhook: ["en": ["body": #"{"n": "{{n}}"}"#]],
        ])

    static func tenant(_ engine: HeraldEngine, receiver: WebhookReceiver, statusEndpoints: [WebhookEndpoint]) async throws -> String {
        let (tenant, _) = try await engine.createTenant(name: "Status Court")
        try await engine.putEventType(tenantID: tenant.id, notice)
        for index in 0..<3 {
            _ = try await engine.upsertSubscriber(
                tenantID: tenant.id, SubscriberInput(id: "s\(index)", name: "Resident \(index)", email: "s\(index)@example.com"))
        }
        _ = try await engine.putWebhookSettings(
            tenantID: tenant.id,
            WebhookSettings(
                endpoints: [WebhookEndpoint(url: receiver.url("/refuses"), secrets: [WebhookFixtures.secret])],
                subscriberSecrets: [WebhookFixtures.secret], statusEndpoints: statusEndpoints))
        return tenant.id
    }

    static func trigger(_ engine: HeraldEngine, tenantID: String, n: Int) async throws -> String {
        let (receipt, _) = try await engine.trigger(
            Trigger(type: "notice", recipients: [.subscriber("s0"), .subscriber("s1"), .subscriber("s2")], payload: ["n": .number(Double(n))]),
            tenantID: tenantID)
        return receipt.eventId
    }

    static func claims(_ engine: HeraldEngine, tenantID: String, subscriber: String) async throws -> SubscriberTokens.Claims {
        let (token, _) = try await engine.issueSubscriberToken(tenantID: tenantID, subscriberID: subscriber)
        return try #require(engine.verifySubscriberToken(token))
    }

    @Test(arguments: StoreBackend.available) func eachEndpointGetsExactlyTheEventsItSubscribesToSignedAndOnce(_ backend: StoreBackend) async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        try await receiver.answer("/refuses", status: 400, body: "unknown event type")
        let engine = try await WebhookFixtures.engine(on: backend)
        let tenantID = try await Self.tenant(
            engine, receiver: receiver,
            statusEndpoints: [
                WebhookEndpoint(url: receiver.url("/all"), secrets: [WebhookFixtures.secret], events: DeliveryStatusEvent.allCases),
                WebhookEndpoint(url: receiver.url("/reads"), secrets: [WebhookFixtures.secret], events: [.read]),
                WebhookEndpoint(url: receiver.url("/outcomes"), secrets: [WebhookFixtures.secret], events: [.sent, .failed]),
            ])
        try await engine.whileRunning {
            let first = try await Self.trigger(engine, tenantID: tenantID, n: 1)
            let second = try await Self.trigger(engine, tenantID: tenantID, n: 2)
            #expect(
                try await engine.eventually {
                    let a = try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: first)
                    let b = try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: second)
                    return a == ["delivered": 3, "sent": 3, "failed": 3] && a == b
                })
            // s0 reads one message (twice: the second read changes nothing); s1 reads all; s2 reads nothing.
            let s0 = try await Self.claims(engine, tenantID: tenantID, subscriber: "s0")
            let firstItem = try #require(try await engine.inbox(s0, filter: .all, cursor: nil, limit: 10).items.last)
            _ = try await engine.markRead(s0, messageID: firstItem.id)
            _ = try await engine.markRead(s0, messageID: firstItem.id)
            _ = try await engine.markAllRead(try await Self.claims(engine, tenantID: tenantID, subscriber: "s1"))
            // 6 delivered + 6 sent + 6 failed + 3 read to /all, 3 to /reads, 12 to /outcomes.
            #expect(try await receiver.wait { $0.filter { $0.path != "/refuses" }.count >= 36 })
            try await Task.sleep(for: .milliseconds(300))  // room for anything extra to show up
        }

        let statuses = try receiver.deliveries().filter { $0.path != "/refuses" }
        #expect(statuses.count == 36)
        #expect(statuses.allSatisfy { $0.verified && $0.delivered })
        func types(_ path: String) -> [String: Int] {
            Dictionary(grouping: statuses.filter { $0.path == path }, by: { $0.json?["type"]?.stringValue ?? "?" }).mapValues(\.count)
        }
        #expect(types("/all") == ["message.sent": 6, "message.delivered": 6, "message.failed": 6, "message.read": 3])
        #expect(types("/reads") == ["message.read": 3])
        #expect(types("/outcomes") == ["message.sent": 6, "message.failed": 6])

        // Each status event has its own webhook-id, shared by the endpoints that receive it.
        let all = statuses.filter { $0.path == "/all" }
        #expect(Set(all.compactMap(\.webhookID)).count == 21)
        let outcomeIDs = Set(statuses.filter { $0.path == "/outcomes" }.compactMap(\.webhookID))
        #expect(outcomeIDs.isSubset(of: Set(all.compactMap(\.webhookID))))

        // The data names the message; its channel and status agree with the activity log.
        let messages = Dictionary(uniqueKeysWithValues: try await WebhookFixtures.messages(engine, tenantID: tenantID).map { ($0.id, $0) })
        for delivery in all {
            let data = try #require(delivery.json?["data"])
            let message = try #require(data["message_id"]?.stringValue.flatMap { messages[$0] })
            #expect(data["event_id"]?.stringValue == message.eventId && data["subscriber_id"]?.stringValue == message.subscriberId)
            #expect(data["channel"]?.stringValue == message.channel.rawValue && data["event_type"] == "notice")
            switch delivery.json?["type"]?.stringValue {
            case "message.sent": #expect(message.channel == .email && data["status"] == "sent")
            case "message.delivered": #expect(message.channel == .inApp && data["status"] == "delivered")
            case "message.failed":
                #expect(message.channel == .webhook && data["status"] == "failed" && data["reason"] == "rejected")
                #expect(data["detail"]?.stringValue?.contains("HTTP 400: unknown event type") == true)
            case "message.read":
                #expect(message.channel == .inApp && data["read_at"]?.stringValue.flatMap(Timestamp.parse) != nil)
            default: Issue.record("unexpected type in \(delivery.body)")
            }
        }
        let readSubscribers = all.filter { $0.json?["type"] == "message.read" }.compactMap { $0.json?["data"]?["subscriber_id"]?.stringValue }
        #expect(readSubscribers.sorted() == ["s0", "s1", "s1"])
    }

    @Test(arguments: StoreBackend.available) func aFailingStatusEndpointIsRetriedUntilItTakesThemAndGoneDisablesIt(_ backend: StoreBackend)
        async throws
    {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        try await receiver.answer("/refuses", status: 200)
        try await receiver.answer("/status", status: 503)
        try await receiver.answer("/gone", status: 410)
        let engine = try await WebhookFixtures.engine(on: backend) { $0.dispatch.maxAttempts = 20 }
        let tenantID = try await Self.tenant(
            engine, receiver: receiver,
            statusEndpoints: [
                WebhookEndpoint(url: receiver.url("/status"), secrets: [WebhookFixtures.secret], events: [.delivered]),
                WebhookEndpoint(url: receiver.url("/gone"), secrets: [WebhookFixtures.secret], events: [.delivered]),
            ])
        try await engine.whileRunning {
            _ = try await Self.trigger(engine, tenantID: tenantID, n: 1)
            // 6 delivered (3 in-app, 3 webhook); the status endpoint refuses them a few times, then takes them.
            #expect(try await receiver.wait { $0.filter { $0.path == "/status" }.count >= 18 })
            let pending = try await engine.statusWebhookCounts(tenantID: tenantID)[receiver.url("/status")]
            #expect(pending?["pending"] == 6 && pending?["delivered"] == nil, "\(String(describing: pending))")
            try await receiver.answer("/status", status: 204)
            #expect(try await receiver.wait { $0.filter { $0.path == "/status" && $0.delivered }.count >= 6 })
            #expect(
                try await engine.eventually {
                    try await engine.statusWebhookCounts(tenantID: tenantID)[receiver.url("/status")] == ["delivered": 6]
                })
            // The 410 endpoint is disabled: requests already under way when it answered may have reached it,
            // none after; the rest were given up, and a second event queues nothing for it.
            let gone = try #require(try await engine.webhookSettings(tenantID: tenantID).statusEndpoints.last)
            #expect(gone.disabledAt != nil && gone.disabledReason?.contains("HTTP 410") == true)
            let goneRequests = try receiver.deliveries(to: "/gone").count
            #expect((1...6).contains(goneRequests))
            _ = try await Self.trigger(engine, tenantID: tenantID, n: 2)
            // Twelve distinct ids, not twelve requests: on a loaded machine one may arrive twice (see below).
            #expect(try await receiver.wait { Set($0.filter { $0.path == "/status" && $0.delivered }.compactMap(\.webhookID)).count >= 12 })
            // Rows for the disabled endpoint that were pending when it answered 410 are given up as they come due;
            // status events that happened after it was disabled were never queued for it.
            let goneSettled = try await engine.eventually {
                guard let gone = try await engine.statusWebhookCounts(tenantID: tenantID)[receiver.url("/gone")] else { return false }
                return gone.keys.sorted() == ["failed"] && (1...6).contains(gone["failed"] ?? 0)
            }
            let counts = try await engine.statusWebhookCounts(tenantID: tenantID)
            #expect(goneSettled, "\(counts)")
            #expect(try receiver.deliveries(to: "/gone").count == goneRequests)
        }
        let status = try receiver.deliveries(to: "/status")
        let delivered = status.filter(\.delivered)
        // Delivery is at least once, as Standard Webhooks says (receivers deduplicate by webhook-id): a
        // request that outlives the client's timeout on a loaded machine is sent again. Each of the 12
        // status events arrived, with its own id.
        #expect(delivered.count >= 12, "\(delivered.map { "\($0.webhookID ?? "") \($0.json?["data"]?["message_id"] ?? nil)" })")
        #expect(Set(delivered.compactMap(\.webhookID)).count == 12, "each status event, under its own id")
        #expect(status.allSatisfy { $0.verified })
        // Every retry of one status event carries its webhook-id and the very same body.
        let retried = Dictionary(grouping: status, by: { $0.webhookID ?? "" }).values.filter { $0.count > 1 }
        #expect(retried.count >= 6)
        #expect(retried.allSatisfy { tries in Set(tries.map(\.body)).count == 1 })
    }
}
