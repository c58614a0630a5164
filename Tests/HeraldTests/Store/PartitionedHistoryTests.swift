import Foundation
import PostgresNIO
import Testing

@testable import Herald

/// The rule retention applies to one day of PostgreSQL's history, and the day stamps in partition names:
/// plain values, no database.
@Suite("Partitioned history: the rules")
struct HistoryPartitionRuleTests {
    static let day: Int64 = 86_400_000

    @Test("a day's stamp and its number round-trip over four centuries, leap days included; anything else is not a day")
    func stamps() {
        #expect(PartitionedHistory.stamp(day: 0) == "19700101")
        #expect(PartitionedHistory.stamp(day: 20_792) == "20261205")
        #expect(PartitionedHistory.stamp(day: 11_016) == "20000229")
        for day in stride(from: Int64(-1000), to: 146_097, by: 1) {
            #expect(PartitionedHistory.day(stamp: PartitionedHistory.stamp(day: day)) == day)
        }
        for text in ["legacy", "2026120", "202612051", "20260230", "20261301", "20261200", "2026-1-1", "２０２６１２０５"] {
            #expect(PartitionedHistory.day(stamp: text) == nil, "\(text)")
        }
        #expect(PartitionedHistory.day(ofPartition: "messages_20261205", table: "messages") == 20_792)
        #expect(PartitionedHistory.day(ofPartition: "messages_legacy", table: "messages") == nil)
    }

    @Test("a past day is dropped once every row has expired; kept while its last row expires within a day; its expired rows deleted otherwise")
    func fate() {
        let now: Int64 = 20_792 * Self.day + 3_600_000
        func partition(_ suffix: String, _ earliest: Int64?, _ latest: Int64?) -> HistoryPartition {
            HistoryPartition(suffix: suffix, today: 20_792, earliestExpiry: earliest, latestExpiry: latest)
        }
        #expect(partition("20261201", now - 10, now - 1).fate(now: now) == .drop)
        #expect(partition("20261201", nil, nil).fate(now: now) == .drop, "an empty past day")
        #expect(partition("20261201", now - 10, now + Self.day / 2).fate(now: now) == .keep, "expired rows wait for the drop")
        #expect(partition("20261201", now + 10, now + 90 * Self.day).fate(now: now) == .keep, "nothing expired")
        #expect(partition("20261201", now - 10, now + 90 * Self.day).fate(now: now) == .deleteExpired, "a longer-kept type shares the day")
        // Today's and later days, and the legacy partitions, are never dropped: they may still take rows.
        #expect(partition("20261205", now - 10, now - 1).fate(now: now) == .deleteExpired)
        #expect(partition("20261206", nil, nil).fate(now: now) == .keep)
        #expect(partition("legacy", now - 10, now - 1).fate(now: now) == .deleteExpired)
        #expect(partition("legacy", nil, nil).fate(now: now) == .keep)
    }

    @Test("reads skip the legacy partition and the settled days at the start of the history whose every row has expired, and nothing after")
    func expiredDays() {
        let now: Int64 = 20_792 * Self.day + 3_600_000
        func partition(_ suffix: String, _ latest: Int64?) -> HistoryPartition {
            HistoryPartition(suffix: suffix, today: 20_792, earliestExpiry: latest.map { $0 - 10 }, latestExpiry: latest)
        }
        let expired = [partition("legacy", nil), partition("20261201", now - 1), partition("20261202", now - 5)]
        let days = ExpiredDays(partitions: expired + [partition("20261203", now + 1), partition("20261204", now - 1), partition("20261205", nil)])
        #expect(days.floor(now: now, settledBefore: 20_791) == 20_790 << 32, "up to the first day with a row not yet expired")
        #expect(days.floor(now: now + 2, settledBefore: 20_791) == 20_791 << 32, "a later expired day that has settled")
        #expect(days.floor(now: now + 2, settledBefore: 20_790) == 20_790 << 32, "a day that may still take events is read")
        #expect(days.floor(now: now - 1, settledBefore: 20_791) == 20_788 << 32, "a row expiring at `now` is still shown")
        // A partition order that is not the days' own, as the catalog may list them.
        #expect(ExpiredDays(partitions: days.partitions.reversed()).floor(now: now, settledBefore: 20_791) == 20_790 << 32)
        // A legacy row still shown keeps every day in the read; so does a first day with one.
        #expect(ExpiredDays(partitions: [partition("legacy", now + 1)] + expired.dropFirst()).floor(now: now, settledBefore: 20_791) == nil)
        #expect(
            ExpiredDays(partitions: [partition("legacy", nil), partition("20261201", now + 1)]).floor(now: now, settledBefore: 20_791) == 20_788 << 32
        )
        #expect(ExpiredDays(partitions: []).floor(now: now, settledBefore: 20_791) == nil)
    }

    @Test("a day counts as over ten minutes after its end by the database's clock; a node reads the bounds again after a minute, not before")
    func expiredDaysSettle() async throws {
        let midnight: Int64 = 20_792 * Self.day
        let expired = [HistoryPartition(suffix: "20261204", today: 20_792, earliestExpiry: 1, latestExpiry: 2)]
        var reads = 0
        func floor(_ cache: ExpiredDays.Cache, now: Int64, databaseNow: Int64) async throws -> Int64? {
            try await cache.floor(now: now) {
                reads += 1
                return (databaseNow, expired)
            }
        }
        #expect(try await floor(ExpiredDays.Cache(), now: midnight, databaseNow: midnight + 9 * 60_000) == 20_791 << 32, "yesterday may still take events: read from its start")
        let cache = ExpiredDays.Cache()
        #expect(try await floor(cache, now: midnight, databaseNow: midnight + 11 * 60_000) == 20_792 << 32)
        #expect(try await floor(cache, now: midnight + 59_000, databaseNow: 0) == 20_792 << 32, "what was read serves for a minute")
        #expect(reads == 2)
        #expect(try await floor(cache, now: midnight + 60_000, databaseNow: midnight) == 20_791 << 32, "and is then read again")
        #expect(reads == 3)
        // A read that fails: what was known serves for another minute; with nothing known, the error is the caller's.
        struct Unreadable: Error {}
        let failing: () async throws -> (databaseNow: Int64, partitions: [HistoryPartition]) = { throw Unreadable() }
        #expect(try await cache.floor(now: midnight + 120_000, read: failing) == 20_791 << 32)
        #expect(try await floor(cache, now: midnight + 150_000, databaseNow: midnight + 11 * 60_000) == 20_791 << 32, "not read again within the minute")
        #expect(reads == 3)
        await #expect(throws: Unreadable.self) { try await ExpiredDays.Cache().floor(now: midnight, read: failing) }
    }
}

/// PostgreSQL's history partitioned by day, against a real server.
///
/// One test at a time: several hold a transaction open on purpose (a reader a drop must wait for), and others build
/// indexes or detach partitions `CONCURRENTLY`, which wait for every older snapshot in the database, so two of them at
/// once can each wait on the other's open transaction. A full run once saw the crash-during-drop test wait three
/// minutes that way, beside the online tenant-index migration.
@Suite(
    "Partitioned history on PostgreSQL", .serialized, .dropsPostgresSchemas,
    .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
struct PartitionedHistoryTests {
    static let day: Int64 = 86_400_000

    @Test("a new database's history is partitioned by day, with today's and the next three days' partitions; a trigger's rows land in today's")
    func freshSchema() async throws {
        let engine = try await TestEngine.make(on: .postgres)
        let store = try #require(engine.store as? PostgresStore)
        let (tenant, ids) = try await engine.tenantWithSubscribers(3)
        _ = try await engine.announce("Fresh", to: ids, tenantID: tenant.id)
        let today = try await Self.today(store)
        for table in PartitionedHistory.tables {
            #expect(try await Self.text(store, "SELECT relkind::text FROM pg_class WHERE oid = '\(table)'::regclass") == "p")
            for day in today...(today + 3) {
                let name = PartitionedHistory.partitionName(table, day: day)
                #expect(try await Self.text(store, "SELECT to_regclass('\(name)')::text") == name)
            }
        }
        let todays = PartitionedHistory.partitionName("messages", day: today)
        #expect(try await Self.integer(store, "SELECT count(*) FROM \(todays)") == 6, "in-app and email for each of three")
        #expect(try await Self.integer(store, "SELECT count(*) FROM messages_legacy") == 0)
        #expect(try await Self.integer(store, "SELECT min(event_pk >> 32) FROM messages") == today)
    }

    @Test("an existing database migrates in place: its rows stay, readable, deliverable and expiring as before; keys go on from the old ones")
    func legacyInPlace() async throws {
        let nowMS = Timestamp.millis(Date())
        // What an older Herald left: 200 events for one subscriber, 199 delivered in-app with an attempt each, one queued.
        let (shared, old) = try await Self.olderSchema(before: "v12-partitioned-history", tenant: "tn_legacy", subscriber: "old-reader", events: 200)
        try await old.write { connection in
            for statement in [
                """
                INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at,
                                     sent_at, expires_at, title, body, attempts)
                SELECT 'tn_legacy', e.pk, s.pk, 'in_app', 2, CASE WHEN e.id = 'ev_legacy_200' THEN 'queued' ELSE 'delivered' END,
                       \(nowMS), \(nowMS), \(nowMS), \(nowMS), e.expires_at, 'Old ' || e.id, 'kept', 1
                FROM events e, subscribers s ORDER BY e.pk
                """,
                """
                INSERT INTO attempts(message_id, number, started_at, duration_ms, outcome, detail)
                SELECT id, 1, \(nowMS), 1.5, 'delivered', 'stored in inbox' FROM messages WHERE status = 'delivered'
                """,
            ] {
                try await connection.run(PostgresQuery(unsafeSQL: statement), old.logger)
            }
        }
        let oldMaxID = try await Self.integer(old, "SELECT max(id) FROM messages")
        await old.close()

        // A current Herald opens the same schema: the migration runs there, in place.
        let engine = try await TestEngine.make(on: .postgres, database: shared)
        let store = try #require(engine.store as? PostgresStore)
        #expect(try await Self.text(store, "SELECT relkind::text FROM pg_class WHERE oid = 'messages'::regclass") == "p")
        #expect(try await Self.integer(store, "SELECT count(*) FROM messages_legacy") == 200)
        #expect(try await Self.integer(store, "SELECT count(*) FROM attempts_legacy") == 199)

        let inbox = try await store.inbox(tenantID: "tn_legacy", subscriberID: "old-reader", filter: .all, cursor: nil, limit: 500)
        #expect(inbox.items.count == 199)
        let oldest = try #require(inbox.items.last)
        let first = try #require(Message.rowID(oldest.id))
        let (message, attempts) = try #require(try await store.message(tenantID: "tn_legacy", id: first))
        #expect(message.status == .delivered)
        #expect(attempts.map(\.detail) == ["stored in inbox"])
        #expect(try await store.event(tenantID: "tn_legacy", id: "ev_legacy_7")?.id == "ev_legacy_7")

        // The queued one is still delivered; its row holds the try (a success writes no attempt row).
        let claimed = try await store.claimMessages(
            owner: "A", scope: .all, limit: 10, now: Date(), leaseUntil: Date().addingTimeInterval(60)
        ).messages
        #expect(claimed.map(\.eventID) == ["ev_legacy_200"])
        let done = try await store.complete(
            claimed.map { StoreContractFixture.outcome($0, .delivered, at: Date(), inbox: InboxContent(title: "t", body: "b", actionURL: nil)) },
            owner: "A", now: Date())
        #expect(done.count == 1)
        #expect(try await Self.integer(store, "SELECT count(*) FROM messages_legacy WHERE sent_duration_ms IS NOT NULL") == 1)
        #expect(try await Self.integer(store, "SELECT count(*) FROM attempts") == 199)

        // New work goes to today's partition, with ids after the old ones.
        let (tenant, ids) = try await engine.tenantWithSubscribers(2)
        _ = try await engine.announce("New", to: ids, tenantID: tenant.id)
        let todays = PartitionedHistory.partitionName("messages", day: try await Self.today(store))
        #expect(try await Self.integer(store, "SELECT count(*) FROM \(todays)") == 4, "in-app and email for each of two")
        #expect(try await Self.integer(store, "SELECT min(id) FROM \(todays)") > oldMaxID)

        // The old rows expire by DELETE as they always did, with what hangs off them; today's (kept 90 days) stay.
        let removed = try await store.deleteExpired(now: Date().addingTimeInterval(31 * 86_400), idempotencyCutoff: Date(), limit: 5000)
        #expect(removed.messages == 200)
        #expect(removed.events == 200)
        #expect(try await Self.integer(store, "SELECT count(*) FROM messages") == 4)
        #expect(try await Self.integer(store, "SELECT count(*) FROM attempts") == 0)
    }

    @Test(
        "the covering inbox index is built online on a history with rows: on each day's partition concurrently, then adopted by the parent; the inbox reads as before"
    )
    func inboxIndexMigratesOnline() async throws {
        let nowMS = Timestamp.millis(Date())
        let (shared, old) = try await Self.olderSchema(before: "v13-inbox-covering-index", tenant: "tn_inbox", subscriber: "reader", events: 30)
        try await old.write { connection in
            for statement in [
                """
                INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at,
                                     sent_at, expires_at, title, body, attempts, read_at)
                SELECT 'tn_inbox', e.pk, s.pk, 'in_app', 2, 'delivered', \(nowMS), \(nowMS), \(nowMS), \(nowMS), e.expires_at, 'Note ' || e.id, 'b', 1,
                       CASE WHEN e.id IN ('ev_inbox_1', 'ev_inbox_2') THEN \(nowMS) END
                FROM events e, subscribers s ORDER BY e.pk
                """
            ] {
                try await connection.run(PostgresQuery(unsafeSQL: statement), old.logger)
            }
        }
        #expect(!(try await Self.text(old, "SELECT pg_get_indexdef('messages_inbox'::regclass)") ?? "").contains("read_at"))
        await old.close()

        let engine = try await TestEngine.make(on: .postgres, database: shared)
        let store = try #require(engine.store as? PostgresStore)
        let definition = try #require(try await Self.text(store, "SELECT pg_get_indexdef('messages_inbox'::regclass)"))
        #expect(definition.contains("(\(HistoryIndex.inbox.columns))"), "\(definition)")
        try await Self.expectAdopted(HistoryIndex.inbox, on: store)
        let counts = try await store.inboxCounts(tenantID: "tn_inbox", subscriberID: "reader")
        #expect(counts.total == 30 && counts.unread == 28 && counts.unseen == 30)
        let unread = try await store.inbox(tenantID: "tn_inbox", subscriberID: "reader", filter: .unread, cursor: nil, limit: 50)
        #expect(unread.items.count == 28)
    }

    @Test(
        "the tenant index is rebuilt online on a compact key (a hash of the tenant id) on each day's partition, adopted by the parent; the activity log and the stats keep each tenant's rows apart"
    )
    func tenantIndexMigratesOnline() async throws {
        let nowMS = Timestamp.millis(Date())
        let (shared, old) = try await Self.olderSchema(before: "v15-compact-tenant-key", tenant: "tn_keyed", subscriber: "member", events: 30)
        try await old.write { connection in
            for statement in [
                "INSERT INTO tenants(id, name, created_at) VALUES ('tn_other', 'Other', \(nowMS))",
                "INSERT INTO subscribers(tenant_id, id, created_at, updated_at) VALUES ('tn_other', 'member', \(nowMS), \(nowMS))",
                // The other tenant's messages ride on the same events: only the tenant column tells them apart.
                """
                INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at,
                                     sent_at, expires_at, title, body, attempts)
                SELECT s.tenant_id, e.pk, s.pk, 'in_app', 2, 'delivered', \(nowMS), \(nowMS), \(nowMS), \(nowMS), e.expires_at, 'Note', 'b', 1
                FROM events e, subscribers s WHERE s.tenant_id = 'tn_keyed' OR e.id IN ('ev_keyed_1', 'ev_keyed_2', 'ev_keyed_3')
                ORDER BY e.pk, s.pk
                """,
            ] {
                try await connection.run(PostgresQuery(unsafeSQL: statement), old.logger)
            }
        }
        #expect(try await Self.text(old, "SELECT pg_get_indexdef('messages_tenant'::regclass)")?.contains("(tenant_id, id)") == true)
        await old.close()

        let engine = try await TestEngine.make(on: .postgres, database: shared)
        let store = try #require(engine.store as? PostgresStore)
        let definition = try #require(try await Self.text(store, "SELECT pg_get_indexdef('messages_tenant'::regclass)"))
        #expect(definition.contains("(hashtextextended(tenant_id, (0)::bigint), id)"), "\(definition)")
        try await Self.expectAdopted(HistoryIndex.tenant, on: store)
        // A partition made after the migration gets the parent's key too.
        let today = try await Self.today(store)
        try await Self.run(store, "SELECT herald_ensure_history_partitions(\(today + 4), \(today + 4))")
        let later = PartitionedHistory.partitionName("messages", day: today + 4)
        #expect(
            try await Self.text(store, "SELECT indexdef FROM pg_indexes WHERE tablename = '\(later)' AND indexdef LIKE '%hashtextextended%'") != nil)

        var keyed: [Message] = []
        var cursor: Int64?
        repeat {
            let page = try await store.messages(tenantID: "tn_keyed", MessageQuery(cursor: cursor, limit: 7))
            keyed += page.items
            cursor = try Cursor.decode(page.nextCursor)
        } while cursor != nil
        #expect(keyed.count == 30 && Set(keyed.map(\.id)).count == 30)
        let rows = keyed.compactMap { Message.rowID($0.id) }
        #expect(rows == rows.sorted(by: >), "newest first")
        let other = try await store.messages(tenantID: "tn_other", MessageQuery(limit: 50))
        #expect(other.items.count == 3 && other.nextCursor == nil)
        #expect(try await store.messages(tenantID: "tn_nobody", MessageQuery(limit: 50)).items.isEmpty)
        let stats = try await store.deliveryStats(tenantID: "tn_other", since: Date().addingTimeInterval(-3_600))
        #expect(stats.counts.map(\.count).reduce(0, +) == 3 && stats.sortedLatenciesMs.count == 3)
    }

    @Test(
        "retention drops a past day whole once every row has expired (with what hangs off it), keeps a day whose last row expires within a day (hidden from reads), and deletes expired rows of a day that holds longer-kept ones"
    )
    func dropsWholeDays() async throws {
        let (engine, store, tenant, ids, subscriber, today, now) = try await Self.pastDays(3)
        // Three past days of 50 events each: all expired; expired but for rows expiring within the hour; expired but one kept for 90 days.
        let days: [(day: Int64, latest: Int64)] = [(today - 3, now - 1), (today - 2, now + 90 * Self.day), (today - 1, now + 3_600_000)]
        for (day, latest) in days {
            try await Self.insertDay(store, day: day, events: 50, latest: latest, tenantID: tenant.id, subscriberPK: subscriber, now: now)
            try await Self.run(
                store,
                """
                INSERT INTO attempts(message_id, event_pk, number, started_at, duration_ms, outcome)
                SELECT id, event_pk, 1, \(now), 1, 'delivered' FROM messages WHERE event_pk >= (\(day)::bigint << 32) AND event_pk < ((\(day)::bigint + 1) << 32)
                """)
            try await Self.run(
                store,
                """
                INSERT INTO email_feedback(tenant_id, message_id, address, kind, created_at)
                SELECT '\(tenant.id)', id, 'a@example.com', 'open', \(now) FROM messages
                WHERE event_pk >= (\(day)::bigint << 32) AND event_pk < ((\(day)::bigint + 1) << 32)
                """)
            try await Self.run(
                store,
                "INSERT INTO fanout_jobs(tenant_id, event_pk, topic_pk, status, available_at) VALUES ('\(tenant.id)', (\(day)::bigint << 32) + 50, 1, 'done', \(now))"
            )
        }
        let hidden = try await Self.integer(
            store,
            "SELECT min(id) FROM messages WHERE event_pk >= (\(today - 1)::bigint << 32) AND event_pk < (\(today)::bigint << 32) AND expires_at < \(now)"
        )

        let result = try await store.deleteExpired(now: Date(), idempotencyCutoff: Date().addingTimeInterval(-86_400), limit: 5000)
        #expect(result.droppedPartitions == 1)
        #expect(result.nextDropAt == Timestamp.date(millis: now + 3_600_000), "the kept day is dropped when its last row expires")
        for table in PartitionedHistory.tables {
            #expect(try await Self.text(store, "SELECT to_regclass('\(PartitionedHistory.partitionName(table, day: today - 3))')::text") == nil)
        }
        #expect(result.messages == 49, "the day holding a row kept for 90 days loses its 49 expired rows one by one")
        #expect(result.events == 49)
        #expect(try await Self.integer(store, "SELECT count(*) FROM \(PartitionedHistory.partitionName("messages", day: today - 2))") == 1)
        #expect(try await Self.integer(store, "SELECT count(*) FROM \(PartitionedHistory.partitionName("messages", day: today - 1))") == 50)
        #expect(try await Self.integer(store, "SELECT count(*) FROM email_feedback") == 51)
        #expect(try await Self.integer(store, "SELECT count(*) FROM fanout_jobs WHERE event_pk < (\(today)::bigint << 32)") == 2)
        #expect(try await Self.integer(store, "SELECT count(*) FROM attempts WHERE event_pk < (\(today)::bigint << 32)") == 51)
        // The waiting day's expired rows are not shown.
        #expect(try await store.message(tenantID: tenant.id, id: hidden) == nil)
        #expect(try await store.event(tenantID: tenant.id, id: "ev_\(today - 1)_1") == nil)
        #expect(try await store.event(tenantID: tenant.id, id: "ev_\(today - 1)_50") != nil)
        let inbox = try await store.inbox(tenantID: tenant.id, subscriberID: ids[0], filter: .all, cursor: nil, limit: 500)
        #expect(inbox.items.map(\.title).sorted() == ["Day \(today - 2)", "Day \(today - 1)"])
        let stats = try await store.deliveryStats(tenantID: tenant.id, since: Date().addingTimeInterval(-86_400))
        #expect(
            stats.counts.filter { $0.channel == .inApp && $0.status == .delivered }.map(\.count).reduce(0, +) == 2,
            "the stats do not count the expired rows that wait for their day's drop")
        // Today's messages (in-app and email, still queued) are untouched.
        #expect(try await Self.integer(store, "SELECT count(*) FROM \(PartitionedHistory.partitionName("messages", day: today))") == 2)
    }

    @Test(
        "the activity log and the stats leave out of their plans the days at the start of the history whose every row has expired (they wait for the drop) and read every later day"
    )
    func readsSkipExpiredDays() async throws {
        let (engine, store, tenant, ids, subscriber, today, now) = try await Self.pastDays(4)
        // Four past days of 20 in-app messages: the first two wholly expired, the third with one row kept, the last expired.
        for (day, latest) in [(today - 4, now - 1), (today - 3, now - 1), (today - 2, now + 90 * Self.day), (today - 1, now - 1)] {
            try await Self.insertDay(store, day: day, events: 20, latest: latest, tenantID: tenant.id, subscriberPK: subscriber, now: now)
        }
        let floor = try await store.read { connection in await store.liveHistoryFloor(connection) }
        #expect(floor == (today - 2) << 32)
        let plan = try await store.read { connection in
            try await connection.rows(
                PostgresQuery(
                    unsafeSQL:
                        "EXPLAIN SELECT id FROM messages m WHERE \(HistoryIndex.tenantKey("m.tenant_id")) = 1 AND m.event_pk >= \(floor) ORDER BY id DESC LIMIT 5"
                ),
                store.logger
            ).map { try $0[0] as String }.joined(separator: "\n")
        }
        for day in [today - 4, today - 3] { #expect(!plan.contains(PartitionedHistory.partitionName("messages", day: day)), "\(plan)") }
        for day in [today - 2, today - 1, today] { #expect(plan.contains(PartitionedHistory.partitionName("messages", day: day)), "\(plan)") }
        // What the reads show is what they showed before: the rows not yet expired, of every day.
        let log = try await store.messages(tenantID: tenant.id, MessageQuery(limit: 50))
        #expect(log.items.count == 3 && log.nextCursor == nil, "today's in-app and email messages, and the day kept for 90 days")
        let stats = try await store.deliveryStats(tenantID: tenant.id, since: Date().addingTimeInterval(-86_400))
        #expect(stats.counts.filter { $0.channel == .inApp && $0.status == .delivered }.map(\.count).reduce(0, +) == 1, "the day kept for 90 days")
        #expect(stats.counts.map(\.count).reduce(0, +) == 3)
    }

    @Test(
        "a day another node is dropping (its table locked while its files go) does not hold up the activity log: the bounds are given up after 200 ms, and read again by the next read",
        // Without the lock timeout, the read waits for the lock, which is held until after it: a hang fails here.
        .timeLimit(.minutes(1))
    )
    func expiredDaysUnderALock() async throws {
        // The day before yesterday: settled whatever the time of day (yesterday is not for its first ten minutes).
        let (_, store, tenant, _, subscriber, today, now) = try await Self.pastDays(2)
        let schema = try #require(store.configuration.schema)
        try await Self.insertDay(store, day: today - 2, events: 5, latest: now - 1, tenantID: tenant.id, subscriberPK: subscriber, now: now)
        let holder = try await PostgresTestSchemas.connect()
        defer { Task { try? await holder.close() } }
        let logger = store.logger
        let table = PartitionedHistory.partitionName("messages", day: today - 2)
        _ = try await holder.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: logger).collect()
        _ = try await holder.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(schema).\(table) IN ACCESS EXCLUSIVE MODE"), logger: logger).collect()
        let clock = ContinuousClock()
        let started = clock.now
        let blocked = try await store.read { connection in await store.liveHistoryFloor(connection) }
        #expect(blocked == .min, "no floor while the bounds cannot be read")
        #expect(clock.now - started < .seconds(2))
        _ = try await holder.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger).collect()
        let free = try await store.read { connection in await store.liveHistoryFloor(connection) }
        #expect(free >= (today - 1) << 32, "read again once the lock is gone: the wholly expired day is skipped")
    }

    @Test("a drop that cannot take its locks within the timeout (a long reader of that day) waits for the next round and loses nothing")
    func dropWaitsForReaders() async throws {
        let engine = try await TestEngine.make(on: .postgres)
        let store = try #require(engine.store as? PostgresStore)
        let schema = try #require(store.configuration.schema)
        let (tenant, _) = try await engine.tenantWithSubscribers(1)
        let today = try await Self.today(store)
        let now = Timestamp.millis(Date())
        try await Self.run(store, "SELECT herald_ensure_history_partitions(\(today - 5), \(today - 5))")
        try await Self.run(
            store,
            """
            INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
            VALUES ((\(today - 5)::bigint << 32) + 1, 'ev_old', '\(tenant.id)', 'notice', 2, 'planned', '{}', '{}', \(now), \(now - 1))
            """)
        let reader = try await PostgresTestSchemas.connect()
        defer { Task { try? await reader.close() } }
        let logger = engine.logger
        let partition = PartitionedHistory.partitionName("events", day: today - 5)
        _ = try await reader.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: logger).collect()
        _ = try await reader.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(schema).\(partition)"), logger: logger).collect()
        let blocked = try await store.deleteExpired(now: Date(), idempotencyCutoff: Date(), limit: 100)
        #expect(blocked.droppedPartitions == 0)
        // The reader still reads the day it opened; the day is out of `events` and waits to be dropped.
        #expect(
            try await reader.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(schema).\(partition)"), logger: logger).collect()[0].decode(
                Int64.self) == 1)
        #expect(try await Self.text(store, "SELECT to_regclass('\(partition)')::text") == partition)
        #expect(try await Self.integer(store, "SELECT count(*) FROM events WHERE id = 'ev_old'") == 0)
        _ = try await reader.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger).collect()
        let next = try await store.deleteExpired(now: Date(), idempotencyCutoff: Date(), limit: 100)
        #expect(next.droppedPartitions == 1)
        #expect(try await Self.text(store, "SELECT to_regclass('\(partition)')::text") == nil)
    }

    @Test("a day a drop detached but did not drop (its node died, or a reader held it) is dropped by the next round")
    func detachedDaysAreDropped() async throws {
        let engine = try await TestEngine.make(on: .postgres)
        let store = try #require(engine.store as? PostgresStore)
        let today = try await Self.today(store)
        let day = today - 3
        try await Self.run(store, "SELECT herald_ensure_history_partitions(\(day), \(day))")
        for table in ["attempts", "messages", "events"] {
            try await Self.run(store, "ALTER TABLE \(table) DETACH PARTITION \(PartitionedHistory.partitionName(table, day: day))")
        }
        let result = try await store.deleteExpired(now: Date(), idempotencyCutoff: Date(), limit: 100)
        #expect(result.droppedPartitions == 1)
        for table in PartitionedHistory.tables {
            #expect(try await Self.text(store, "SELECT to_regclass('\(PartitionedHistory.partitionName(table, day: day))')::text") == nil)
        }
    }

    @Test(
        "a node that dies while dropping a day (its connection gone mid-detach, as under kill -9) loses nothing: the other days read and write, the cleanup lock comes back, and a restarted node finishes the detach and drops the day",
        // Before `tidy`, the sweep waited forever for an unlock sent on the dead connection: a hang fails here.
        .timeLimit(.minutes(1))
    )
    func dropInterruptedByACrash() async throws {
        let shared = URL(fileURLWithPath: "/tmp/herald-drop-crash-\(UUID().uuidString)")
        let engine = try await TestEngine.make(on: .postgres, database: shared)
        let store = try #require(engine.store as? PostgresStore)
        let schema = try #require(store.configuration.schema)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        _ = try await engine.announce("Today", to: ids, tenantID: tenant.id)
        let today = try await Self.today(store)
        let day = today - 5
        let now = Timestamp.millis(Date())
        let subscriber = try await Self.integer(store, "SELECT pk FROM subscribers WHERE id = '\(ids[0])'")
        try await Self.run(store, "SELECT herald_ensure_history_partitions(\(day), \(day))")
        for statement in [
            """
            INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
            SELECT (\(day)::bigint << 32) + g, 'ev_old_' || g, '\(tenant.id)', 'notice', 2, 'planned', '{}', '{}', \(now), \(now - 1)
            FROM generate_series(1, 10) g
            """,
            """
            INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at, expires_at)
            SELECT '\(tenant.id)', pk, \(subscriber), 'email', 2, 'sent', \(now), \(now), \(now), expires_at FROM events WHERE id LIKE 'ev_old_%'
            """,
            """
            INSERT INTO attempts(message_id, event_pk, number, started_at, duration_ms, outcome)
            SELECT id, event_pk, 1, \(now), 1, 'sent' FROM messages WHERE event_pk >> 32 = \(day)
            """,
            """
            INSERT INTO email_feedback(tenant_id, message_id, address, kind, created_at)
            SELECT '\(tenant.id)', id, 'a@example.com', 'open', \(now) FROM messages WHERE event_pk >> 32 = \(day)
            """,
            "INSERT INTO fanout_jobs(tenant_id, event_pk, topic_pk, status, available_at) VALUES ('\(tenant.id)', (\(day)::bigint << 32) + 1, 1, 'done', \(now))",
        ] {
            try await Self.run(store, statement)
        }
        // A reader of `messages` (any day: the parent is what it locks) holds the drop in the second half of its
        // `DETACH PARTITION … CONCURRENTLY`, which waits for the transactions that could still see the day.
        let reader = try await PostgresTestSchemas.connect()
        defer { Task { try? await reader.close() } }
        let logger = engine.logger
        _ = try await reader.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: logger).collect()
        _ = try await reader.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(schema).messages WHERE event_pk = -1"), logger: logger).collect()
        let sweep = Task { try await store.deleteExpired(now: Date(), idempotencyCutoff: Date(), limit: 100) }
        // The node dies there: its connection ends mid-statement, as when the process is killed.
        var victim: Int32?
        for _ in 0..<250 where victim == nil {
            _ = try await reader.query(PostgresQuery(unsafeSQL: "SELECT pg_stat_clear_snapshot()"), logger: logger).collect()
            victim = try await reader.query(
                PostgresQuery(
                    // This schema's detach (its node holds this schema's cleanup lock), not another test's detach or
                    // `CREATE INDEX CONCURRENTLY`, which wait the same way; the activity is read afresh each time
                    // (a transaction otherwise keeps its first look at it).
                    unsafeSQL: """
                        SELECT l.pid FROM pg_locks l, pg_stat_activity a
                        WHERE a.pid = l.pid AND l.locktype = 'virtualxid' AND NOT l.granted
                        AND a.query LIKE 'ALTER TABLE messages DETACH PARTITION%'
                        AND l.pid IN (
                            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
                            AND objid = (hashtext('cleanup:\(schema)')::bigint & 4294967295)::oid)
                        """),
                logger: logger
            ).collect().first.map { try $0.decode(Int32.self) }
            if victim == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let pid = try #require(victim, "the drop never waited in its concurrent detach")
        _ = try await reader.query(PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(\(pid))"), logger: logger).collect()
        await #expect(throws: (any Error).self) { try await sweep.value }
        _ = try await reader.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger).collect()

        // The day is left half detached, as PostgreSQL leaves an interrupted concurrent detach; the other days read
        // and write as before.
        let messagesOfTheDay = PartitionedHistory.partitionName("messages", day: day)
        #expect(
            try await Self.integer(store, "SELECT count(*) FROM pg_inherits WHERE inhrelid = '\(messagesOfTheDay)'::regclass AND inhdetachpending")
                == 1)
        #expect(try await Self.integer(store, "SELECT count(*) FROM messages WHERE event_pk >> 32 = \(today)") == 2)
        _ = try await engine.announce("Meanwhile", to: ids, tenantID: tenant.id)
        #expect(try await Self.integer(store, "SELECT count(*) FROM messages WHERE event_pk >> 32 = \(today)") == 4)

        // A restarted node on the same database takes the cleanup lock the dead one held, finishes the detach and
        // drops the day whole.
        let restarted = try await TestEngine.make(on: .postgres, database: shared)
        let next = try await #require(restarted.store as? PostgresStore).deleteExpired(now: Date(), idempotencyCutoff: Date(), limit: 100)
        #expect(next.droppedPartitions == 1)
        for table in PartitionedHistory.tables {
            let name = PartitionedHistory.partitionName(table, day: day)
            #expect(try await Self.text(store, "SELECT to_regclass('\(name)')::text") == nil, "\(name) is left")
        }
        #expect(try await Self.integer(store, "SELECT count(*) FROM email_feedback") == 0)
        #expect(try await Self.integer(store, "SELECT count(*) FROM fanout_jobs WHERE event_pk >> 32 = \(day)") == 0)
        #expect(
            try await Self.integer(store, "SELECT count(*) FROM \(PartitionedHistory.partitionName("messages", day: today))") == 4,
            "today's untouched")
        #expect(
            try await Self.integer(
                store,
                "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhdetachpending AND c.relnamespace = current_schema()::regnamespace"
            ) == 0, "no detach left pending in this schema")
    }

    // MARK: Helpers

    /// A schema as an older Herald left it (the migrations before `identifier`), in a database a later
    /// ``TestEngine`` can open through the returned URL, holding one tenant, one subscriber and `events`
    /// events (`ev_<tenant>_1`…, kept 30 days).
    static func olderSchema(before identifier: String, tenant: String, subscriber: String, events: Int) async throws -> (URL, PostgresStore) {
        let shared = URL(fileURLWithPath: "/tmp/herald-older-\(UUID().uuidString)")
        let url = try await TestEngine.postgresDatabaseURL(sharing: shared)
        let old = try await PostgresStore.open(PostgresStore.Configuration(url: url, source: "test"))
        try await old.migrate(before: identifier)
        let nowMS = Timestamp.millis(Date())
        let prefix = "ev_" + tenant.dropFirst(3) + "_"
        try await old.write { connection in
            for statement in [
                "INSERT INTO tenants(id, name, created_at) VALUES ('\(tenant)', 'Older', \(nowMS))",
                "INSERT INTO subscribers(tenant_id, id, created_at, updated_at) VALUES ('\(tenant)', '\(subscriber)', \(nowMS), \(nowMS))",
                """
                INSERT INTO events(id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
                SELECT '\(prefix)' || g, '\(tenant)', 'notice', 2, 'planned', '{}', '{}', \(nowMS) + g, \(nowMS + 30 * Self.day)
                FROM generate_series(1, \(events)) g
                """,
            ] {
                try await connection.run(PostgresQuery(unsafeSQL: statement), old.logger)
            }
        }
        return (shared, old)
    }

    /// Every partition of `messages` has `index` built ahead under its own name (``HistoryIndex/prepareEachPartition``),
    /// valid and adopted by the parent's index.
    static func expectAdopted(_ index: HistoryIndex, on store: PostgresStore) async throws {
        let partitions = try await integer(store, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages'::regclass")
        let names = try await store.read { connection in
            try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_index x ON x.indexrelid = c.oid
                        WHERE i.inhparent = '\(index.name)'::regclass AND x.indisvalid
                        """), store.logger
            ).map { try $0[0] as String }
        }
        let adopted = names.filter { $0.hasSuffix("_" + index.partitionSuffix) }
        #expect(
            partitions >= 5 && adopted.count == partitions,
            "\(adopted.count) of \(partitions) partitions' indexes were built ahead and adopted: \(names)")
    }

    /// A new engine on PostgreSQL with a tenant of one subscriber announced to today, and the partitions of the
    /// `count` days before today; with the subscriber's key, the database's day and now in milliseconds.
    static func pastDays(
        _ count: Int64
    ) async throws -> (HeraldEngine, PostgresStore, Tenant, [String], subscriberPK: Int64, today: Int64, now: Int64) {
        let engine = try await TestEngine.make(on: .postgres)
        let store = try #require(engine.store as? PostgresStore)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        _ = try await engine.announce("Today", to: ids, tenantID: tenant.id)
        let today = try await Self.today(store)
        let subscriber = try await Self.integer(store, "SELECT pk FROM subscribers WHERE id = '\(ids[0])'")
        try await Self.run(store, "SELECT herald_ensure_history_partitions(\(today - count), \(today - 1))")
        return (engine, store, tenant, ids, subscriber, today, Timestamp.millis(Date()))
    }

    /// A past day of `events` events with one delivered in-app message each (titled `Day <day>`), every row
    /// expired at `now` but the last event's and its message's, which expire at `latest`.
    static func insertDay(
        _ store: PostgresStore, day: Int64, events: Int, latest: Int64, tenantID: String, subscriberPK: Int64, now: Int64
    ) async throws {
        try await run(
            store,
            """
            INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
            SELECT (\(day)::bigint << 32) + g, 'ev_\(day)_' || g, '\(tenantID)', 'notice', 2, 'planned', '{}', '{}', \(now),
                   CASE WHEN g = \(events) THEN \(latest) ELSE \(now - 1) END
            FROM generate_series(1, \(events)) g
            """)
        try await run(
            store,
            """
            INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at,
                                 sent_at, expires_at, title, body)
            SELECT '\(tenantID)', pk, \(subscriberPK), 'in_app', 2, 'delivered', \(now), \(now), \(now), \(now), expires_at, 'Day \(day)', 'b'
            FROM events WHERE pk >= (\(day)::bigint << 32) AND pk < ((\(day)::bigint + 1) << 32)
            """)
    }

    static func today(_ store: PostgresStore) async throws -> Int64 {
        try await integer(store, "SELECT \(PartitionedHistory.today)")
    }

    static func run(_ store: PostgresStore, _ sql: String) async throws {
        try await store.write { connection in try await connection.run(PostgresQuery(unsafeSQL: sql), store.logger) }
    }

    static func integer(_ store: PostgresStore, _ sql: String) async throws -> Int64 {
        try await store.read { connection in try await connection.rows(PostgresQuery(unsafeSQL: sql), store.logger)[0][0] }
    }

    static func text(_ store: PostgresStore, _ sql: String) async throws -> String? {
        try await store.read { connection in try await connection.rows(PostgresQuery(unsafeSQL: sql), store.logger)[0][0] }
    }
}
