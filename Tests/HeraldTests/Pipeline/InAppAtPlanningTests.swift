import Foundation
import GRDB
import PostgresNIO
import Testing

@testable import Herald

@Suite("In-app messages delivered as they are planned", .dropsPostgresSchemas)
struct InAppAtPlanningTests {
    @Test(
        "a trigger's in-app messages are in the inbox when it returns: written once, delivered, without an attempt row; the attempt log still shows the try",
        arguments: StoreBackend.available)
    func deliveredAtTrigger(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(2)
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "announcement_posted", recipients: ids.map(Recipient.subscriber), payload: ["title": .string(Self.title), "excerpt": "At last"]),
                tenantID: tenant.id)
            // No waiting: the trigger's own transaction put them in the inbox.
            let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
            let inApp = details.messages.filter { $0.channel == .inApp }
            #expect(inApp.count == 2)
            #expect(inApp.allSatisfy { $0.status == .delivered && $0.attempts == 1 && $0.sentAt != nil })
            #expect(receipt.messages["delivered"] == 2)
            let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: ids[0])
            let inbox = try await engine.inbox(claims, filter: .active, cursor: nil, limit: 10)
            #expect(inbox.items.map(\.title) == ["New announcement: " + Self.title], "written exactly, whatever the text holds")

            let first = try #require(inApp.first)
            let (message, attempts) = try await engine.message(tenantID: tenant.id, id: first.id)
            #expect(message.status == .delivered)
            #expect(attempts.count == 1)
            #expect(attempts.first?.number == 1)
            #expect(attempts.first?.outcome == .delivered)
            #expect(attempts.first?.detail == "stored in inbox")
            #expect(attempts.first?.startedAt == message.sentAt)
            #expect(try await Self.attemptRows(engine, backend, channel: "in_app") == 0, "no attempt row for an in-app first try")
        }
    }

    @Test(
        "in-app messages not due yet, or on an engine that runs no workers, are queued for the dispatcher as before; a topic's members get theirs as each chunk is planned",
        arguments: StoreBackend.available)
    func whatIsLeftToTheDispatcher(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.dispatch.fanoutChunkSize = 2 }
        let (tenant, ids) = try await engine.tenantWithSubscribers(5)
        // Not running workers (an api node): nothing is rendered here.
        let before = try await engine.announce("Before the workers", to: [ids[0]], tenantID: tenant.id)
        #expect(try await engine.store.messageCounts(tenantID: tenant.id, eventID: before)["queued"] ?? 0 >= 1)
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "block-a", name: "Block A")
        _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "block-a", subscriberIDs: ids)
        try await engine.whileRunning {
            #expect(try await engine.eventually { try await engine.inAppStatuses(tenant.id, before) == [.delivered] }, "the dispatcher delivers it")
            let (later, _) = try await engine.trigger(
                Trigger(
                    type: "announcement_posted", recipients: [.subscriber(ids[1])], payload: ["title": "Later", "excerpt": "x"],
                    sendAt: Date().addingTimeInterval(3600)),
                tenantID: tenant.id)
            #expect(try await engine.inAppStatuses(tenant.id, later.eventId) == [.queued], "a delayed message waits for its time")
            let (topic, _) = try await engine.trigger(
                Trigger(type: "announcement_posted", recipients: [.topic("block-a")], payload: ["title": "Bins", "excerpt": "Tuesday"]),
                tenantID: tenant.id)
            #expect(try await engine.eventually { try await engine.inAppStatuses(tenant.id, topic.eventId) == Array(repeating: .delivered, count: 5) })
            #expect(try await Self.attemptRows(engine, backend, channel: "in_app") == 0, "a success writes no attempt row")
            #expect(
                try await Self.count(engine, "SELECT count(*) FROM messages WHERE channel = 'in_app' AND sent_duration_ms IS NOT NULL") == 1,
                "only the dispatcher's delivery has its try's duration on its row")
        }
    }

    /// A title with what an array literal or a statement could trip on: quotes, a backslash, braces, a comma, NULL.
    static let title = "Lift \"A\", {fixed} \\ NULL at last — ✓"

    /// Attempt rows of the channel's messages, read from the store's tables.
    static func attemptRows(_ engine: HeraldEngine, _ backend: StoreBackend, channel: String) async throws -> Int {
        try await count(engine, "SELECT count(*) FROM attempts a JOIN messages m ON m.id = a.message_id WHERE m.channel = '\(channel)'")
    }

    /// A count read from the store's tables.
    static func count(_ engine: HeraldEngine, _ sql: String) async throws -> Int {
        if let store = engine.store as? SQLiteStore {
            return try await store.pool.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
        }
        let store = try #require(engine.store as? PostgresStore)
        return try await store.read { connection in Int(try await connection.rows(PostgresQuery(unsafeSQL: sql), store.logger)[0][0] as Int64) }
    }
}

extension HeraldEngine {
    /// The statuses of an event's in-app messages, in subscriber order.
    fileprivate func inAppStatuses(_ tenantID: String, _ eventID: String) async throws -> [MessageStatus] {
        try await eventDetails(tenantID: tenantID, id: eventID).messages.filter { $0.channel == .inApp }.sorted { $0.subscriberId < $1.subscriberId }
            .map(\.status)
    }
}
