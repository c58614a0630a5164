import Foundation
import PostgresNIO
import Testing

@testable import Herald

/// PostgreSQL's narrow queue (``MessageQueue``), against a real server: the claim leases the queue's row and
/// leaves the history's alone, the outcome writes the history once, and an older database's backlog moves in.
@Suite("The narrow queue on PostgreSQL", .dropsPostgresSchemas, .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
struct MessageQueueTests {
    typealias SQL = PartitionedHistoryTests

    /// A new engine on PostgreSQL with a tenant of `count` subscribers (each with an email address), announced to once.
    static func announced(_ title: String, to count: Int) async throws -> (HeraldEngine, PostgresStore, Tenant, [String], event: String) {
        let engine = try await TestEngine.make(on: .postgres)
        let store = try #require(engine.store as? PostgresStore)
        let (tenant, ids) = try await engine.tenantWithSubscribers(count)
        let event = try await engine.announce(title, to: ids, tenantID: tenant.id)
        return (engine, store, tenant, ids, event)
    }

    @Test("planned email waits in the queue; a claim leases its row there and leaves the history's row as it was; the API shows it sending, in the message and in its event's counts")
    func claimLeavesTheHistory() async throws {
        let (_, store, tenant, _, _) = try await Self.announced("Queued", to: 2)
        let queued = try await SQL.integer(store, "SELECT count(*) FROM messages WHERE status = 'queued'")
        let inQueue = try await SQL.integer(store, "SELECT count(*) FROM queue")
        #expect(queued >= 2 && inQueue == queued, "a queue row for each queued message")
        let before = try await SQL.text(store, "SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY id) FROM messages WHERE status = 'queued'")

        let now = Date()
        let batch = try await store.claimMessages(owner: "node-a", scope: .all, limit: 100, now: now, leaseUntil: now.addingTimeInterval(60))
        #expect(batch.messages.count == Int(queued) && batch.messages.allSatisfy { $0.attempt == 1 })
        #expect(try await SQL.text(store, "SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY id) FROM messages WHERE status = 'queued'") == before)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue WHERE lease_owner = 'node-a'") == queued)
        let shown = try #require(try await store.message(tenantID: tenant.id, id: batch.messages[0].rowID)).0
        #expect(shown.status == .sending && shown.attempts == 1)
        let listed = try await store.messages(tenantID: tenant.id, MessageQuery(status: .sending))
        #expect(Set(listed.items.map(\.id)) == Set(batch.messages.map { Message.publicID($0.rowID) }))
        #expect(try await store.queueDepth(now: now).byPriority.values.reduce(0, +) == Int(queued))
        // The event's counts agree with the list: being sent, not queued.
        let counts = try await store.messageCounts(tenantID: tenant.id, eventID: batch.messages[0].eventID)
        #expect(counts["sending"] == Int(queued) && counts["queued"] == nil, "\(counts)")

        // Leased: no other claim takes them until the lease ends.
        let other = try await store.claimMessages(owner: "node-b", scope: .all, limit: 10, now: now, leaseUntil: now.addingTimeInterval(60))
        #expect(other.messages.isEmpty)
        let renewed = try await store.renewLeases(owner: "node-a", ids: batch.messages.map(\.rowID), until: now.addingTimeInterval(120))
        #expect(renewed == Int(queued))
        #expect(try await store.renewLeases(owner: "node-b", ids: batch.messages.map(\.rowID), until: now.addingTimeInterval(120)) == 0)
    }

    @Test("an outcome writes the history's row once and takes the message out of the queue; a retry puts it back due at its time; a lost lease changes nothing")
    func outcomesLeaveTheQueue() async throws {
        let (engine, store, tenant, _, _) = try await Self.announced("Outcomes", to: 3)
        let now = Date()
        let batch = try await store.claimMessages(owner: "node-a", scope: .all, limit: 100, now: now, leaseUntil: now.addingTimeInterval(60))
        try #require(batch.messages.count >= 3)
        let (sent, retried, lost) = (batch.messages[0], batch.messages[1], batch.messages[2])
        func outcome(_ message: ClaimedMessage, _ status: MessageStatus, retryAt: Date? = nil) -> DeliveryOutcome {
            let attempt = DeliveryAttempt(
                number: message.attempt, startedAt: now, durationMs: 3, outcome: status == .sent ? .sent : .transientFailure, detail: "250 ok")
            var outcome = DeliveryOutcome(rowID: message.rowID, status: status, reason: nil, retryAt: retryAt, attempt: attempt, inbox: nil)
            outcome.partitionKey = message.partitionKey
            return outcome
        }
        // Another node took the third after its lease ended: this node's outcome for it is not the message's.
        try await SQL.run(store, "UPDATE queue SET lease_owner = 'node-b' WHERE message_id = \(lost.rowID)")
        let retryAt = now.addingTimeInterval(300)
        let recorded = try await store.complete(
            [outcome(sent, .sent), outcome(retried, .queued, retryAt: retryAt), outcome(lost, .sent)], owner: "node-a", now: now)
        #expect(Set(recorded) == [sent.rowID, retried.rowID])

        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue WHERE message_id = \(sent.rowID)") == 0)
        let (shownSent, attempts) = try #require(try await store.message(tenantID: tenant.id, id: sent.rowID))
        #expect(shownSent.status == .sent && shownSent.attempts == 1 && attempts.count == 1)

        #expect(
            try await SQL.integer(
                store, "SELECT count(*) FROM queue WHERE message_id = \(retried.rowID) AND lease_owner IS NULL AND available_at = \(Timestamp.millis(retryAt))")
                == 1)
        let shownRetried = try #require(try await store.message(tenantID: tenant.id, id: retried.rowID)).0
        #expect(shownRetried.status == .queued && shownRetried.attempts == 1)

        #expect(try await SQL.text(store, "SELECT status FROM messages WHERE id = \(lost.rowID)") == "queued", "untouched by the stale outcome")
        #expect(try await store.message(tenantID: tenant.id, id: lost.rowID)?.0.status == .sending)

        // Due at the retry's time, and claimed again then, as its second try.
        #expect(
            try await store.claimMessages(owner: "node-a", scope: .all, limit: 100, now: now, leaseUntil: now.addingTimeInterval(60)).messages.isEmpty)
        let later = try await store.claimMessages(
            owner: "node-a", scope: .all, limit: 100, now: retryAt, leaseUntil: retryAt.addingTimeInterval(60))
        #expect(later.messages.contains { $0.rowID == retried.rowID && $0.attempt == 2 } && !later.messages.contains { $0.rowID == sent.rowID })

        // Cancelling the event takes what waits out of the queue; the one another node is sending stays with it.
        let cancelled = try await engine.cancelEvent(tenantID: tenant.id, id: shownSent.eventId)
        #expect(cancelled == 0, "one is sent, and the others are being sent")
        try await SQL.run(store, "UPDATE queue SET lease_owner = NULL, available_at = 0 WHERE message_id = \(retried.rowID)")
        #expect(try await engine.cancelEvent(tenantID: tenant.id, id: shownSent.eventId) == 1)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue") == Int64(batch.messages.count - 2))
        #expect(try await SQL.text(store, "SELECT status FROM messages WHERE id = \(retried.rowID)") == "cancelled")
    }

    @Test("an older database's queued and sending messages move into the queue, a lease with its owner and end; the history's queue indexes go")
    func backlogMovesIn() async throws {
        let nowMS = Timestamp.millis(Date())
        let (shared, old) = try await SQL.olderSchema(before: "v16-narrow-queue", tenant: "tn_backlog", subscriber: "member", events: 3)
        try await old.write { connection in
            try await connection.run(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE subscribers SET email = 'member@example.com';
                        """), old.logger)
            try await connection.run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, lease_owner, attempts,
                                             created_at, updated_at, expires_at)
                        SELECT 'tn_backlog', e.pk, s.pk, 'email', 2,
                               CASE e.id WHEN 'ev_backlog_1' THEN 'queued' WHEN 'ev_backlog_2' THEN 'sending' ELSE 'sent' END,
                               CASE e.id WHEN 'ev_backlog_2' THEN \(nowMS + 600_000) ELSE \(nowMS - 1) END,
                               CASE e.id WHEN 'ev_backlog_2' THEN 'old-node' END, CASE e.id WHEN 'ev_backlog_1' THEN 0 ELSE 1 END,
                               \(nowMS), \(nowMS), e.expires_at
                        FROM events e, subscribers s
                        """), old.logger)
        }
        await old.close()

        let engine = try await TestEngine.make(on: .postgres, database: shared)
        let store = try #require(engine.store as? PostgresStore)
        #expect(try await SQL.text(store, "SELECT to_regclass('messages_queue')::text") == nil)
        #expect(try await SQL.text(store, "SELECT to_regclass('messages_leases')::text") == nil)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue") == 2)
        #expect(
            try await SQL.integer(
                store, "SELECT count(*) FROM queue WHERE lease_owner = 'old-node' AND available_at = \(nowMS + 600_000) AND attempts = 1") == 1)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM messages WHERE status = 'sending'") == 0)
        let messages = try await store.messages(tenantID: "tn_backlog", MessageQuery())
        #expect(messages.items.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.queued, .sending, .sent])

        // The queued one is claimed now; the leased one when its lease ends.
        let now = Date(timeIntervalSince1970: Double(nowMS) / 1000)
        let first = try await store.claimMessages(owner: "node-a", scope: .all, limit: 10, now: now, leaseUntil: now.addingTimeInterval(3600))
        #expect(first.messages.count == 1 && first.messages.first?.attempt == 1 && first.messages.first?.subscriber.email == "member@example.com")
        let after = now.addingTimeInterval(601)
        let second = try await store.claimMessages(owner: "node-a", scope: .all, limit: 10, now: after, leaseUntil: after.addingTimeInterval(60))
        #expect(second.messages.count == 1 && second.messages.first?.attempt == 2)

        // A node of the older version, until it is upgraded: what it plans is queued by the database's trigger,
        // and its claim fails instead of taking a message the queue hands out too.
        try await SQL.run(
            store,
            """
            INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at, expires_at)
            SELECT 'tn_backlog', e.pk, s.pk, 'sms', 2, 'queued', \(nowMS), \(nowMS), \(nowMS), e.expires_at
            FROM events e, subscribers s WHERE e.id = 'ev_backlog_3'
            """)
        #expect(
            try await SQL.integer(
                store, "SELECT count(*) FROM queue q JOIN messages m ON m.id = q.message_id WHERE m.channel = 'sms' AND q.available_at = \(nowMS)") == 1)
        await #expect(throws: (any Error).self) {
            try await SQL.run(
                store,
                """
                UPDATE messages SET status = 'sending', lease_owner = 'old-node' WHERE id IN (
                    SELECT id FROM messages WHERE status IN ('queued', 'sending') AND available_at <= \(nowMS) LIMIT 10)
                """)
        }
    }

    @Test("a queue row whose message is gone leaves the queue at its claim instead of being leased again and again")
    func orphansLeave() async throws {
        let (_, store, _, _, _) = try await Self.announced("Orphan", to: 1)
        let queued = try await SQL.integer(store, "SELECT count(*) FROM queue")
        let pk = try await SQL.integer(store, "SELECT min(event_pk) FROM queue")
        try await SQL.run(store, "INSERT INTO queue(message_id, event_pk, priority, available_at) VALUES (987654321, \(pk), 0, 0)")
        let now = Date()
        let batch = try await store.claimMessages(owner: "node-a", scope: .all, limit: 100, now: now, leaseUntil: now.addingTimeInterval(60))
        #expect(batch.messages.count == Int(queued) && !batch.messages.contains { $0.rowID == 987654321 })
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue WHERE message_id = 987654321") == 0)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue") == queued)
    }

    @Test("the queue's trigger writes one row per queued message of a multi-row insert, none for the others or for rows already there")
    func triggerQueuesInserts() async throws {
        let (_, store, _, _, event) = try await Self.announced("Trigger", to: 5)
        let queued = try await SQL.integer(store, "SELECT count(*) FROM messages WHERE status = 'queued'")
        #expect(queued >= 5)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue") == queued)
        #expect(
            try await SQL.integer(
                store,
                "SELECT count(*) FROM queue q JOIN messages m ON m.id = q.message_id AND m.event_pk = q.event_pk AND m.priority = q.priority AND m.available_at = q.available_at"
            ) == queued)
        // The same event and recipients again (a retried fan-out chunk): those rows are there, so they queue nothing
        // more; in the same statement, new rows not queued (suppressed) queue nothing either.
        let pk = try await SQL.integer(store, "SELECT pk FROM events WHERE id = '\(event)'")
        try await SQL.run(
            store,
            """
            INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at, expires_at)
            SELECT tenant_id, event_pk, subscriber_pk, channel, priority, 'queued', available_at, created_at, updated_at, expires_at
            FROM messages WHERE event_pk = \(pk)
            UNION ALL
            SELECT tenant_id, event_pk, subscriber_pk, 'chat', priority, 'suppressed', available_at, created_at, updated_at, expires_at
            FROM messages WHERE event_pk = \(pk) AND channel = 'email'
            ON CONFLICT DO NOTHING
            """)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM messages WHERE channel = 'chat' AND status = 'suppressed'") == 5)
        #expect(try await SQL.integer(store, "SELECT count(*) FROM queue") == queued)
    }
}
