import Foundation
import GRDB
import Testing

@testable import Herald

/// The v10 migration rebuilds SQLite's messages table (its unique key gains the workflow step): a database
/// written by the previous version keeps every message, inbox state and attempt.
@Suite("Workflow migration")
struct WorkflowMigrationTests {
    @Test("an existing SQLite database keeps its messages, their inbox state and attempts through the v10 rebuild")
    func sqliteRebuildKeepsEverything() async throws {
        let path = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite").path
        let store = try SQLiteStore(path: path)
        try SQLiteStore.migrator.migrate(store.pool, upTo: "v9-push-devices")
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO tenants(id, name, created_at) VALUES ('t1', 'Old', 0)")
            try db.execute(sql: "INSERT INTO subscribers(pk, tenant_id, id, created_at, updated_at) VALUES (7, 't1', 'ana', 0, 0)")
            try db.execute(
                sql: """
                    INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
                    VALUES (3, 'ev_old', 't1', 'notice', 2, 'planned', '{}', '{}', 0, 9999999999999)
                    """)
            for (id, channel) in [(101, "in_app"), (102, "email")] {
                try db.execute(
                    sql: """
                        INSERT INTO messages(id, tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at,
                            updated_at, expires_at, title, read_at, digest_id, related_id)
                        VALUES (?, 't1', 3, 7, ?, 2, 'delivered', 0, 0, 0, 9999999999999, 'Old notice', 1234, NULL, NULL)
                        """, arguments: [id, channel])
            }
            try db.execute(sql: "INSERT INTO attempts(message_id, number, started_at, duration_ms, outcome) VALUES (101, 1, 0, 1.5, 'delivered')")
        }
        try await store.migrate()
        let rows = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, channel, step, title, read_at, clicked_at FROM messages ORDER BY id")
        }
        #expect(rows.map { $0["id"] as Int64 } == [101, 102])
        #expect(rows.allSatisfy { ($0["step"] as Int64) == 0 && ($0["title"] as String) == "Old notice" && ($0["read_at"] as Int64) == 1234 })
        #expect(rows.allSatisfy { ($0["clicked_at"] as Int64?) == nil })
        let attempts = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts WHERE message_id = 101") }
        #expect(attempts == 1, "attempts still point at their message")
        let problems = try await store.pool.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }
        #expect(problems.isEmpty)
        // The new key: the same channel again is a new message only at another step.
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at,
                        expires_at, step)
                    VALUES ('t1', 3, 7, 'email', 2, 'queued', 0, 0, 0, 9999999999999, 2)
                    """)
        }
        await #expect(throws: (any Error).self) {
            try await store.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at,
                            expires_at, step)
                        VALUES ('t1', 3, 7, 'email', 2, 'queued', 0, 0, 0, 9999999999999, 2)
                        """)
            }
        }
        let inbox = try await store.inbox(tenantID: "t1", subscriberID: "ana", filter: .all, cursor: nil, limit: 10)
        #expect(inbox.items.map(\.id) == ["msg_101"], "the inbox index was rebuilt")
    }
}
