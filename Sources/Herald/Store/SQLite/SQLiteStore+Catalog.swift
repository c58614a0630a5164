import Foundation
import GRDB

extension SQLiteStore {
    public func tenantEventTypes(tenantID: String) async throws -> (defined: [EventType], deleted: Set<String>) {
        try await pool.read { db in
            var defined: [EventType] = []
            var deleted: Set<String> = []
            for row in try Row.fetchAll(db, sql: "SELECT key, definition FROM event_types WHERE tenant_id = ?", arguments: [tenantID]) {
                if let text: String = row[1], let eventType = Self.decodeJSON(EventType.self, text) {
                    defined.append(eventType)
                } else {
                    deleted.insert(row[0])
                }
            }
            return (defined, deleted)
        }
    }

    public func tenantEventType(tenantID: String, key: String) async throws -> TenantEventTypeEntry? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT definition FROM event_types WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
            else { return nil }
            if let text: String = row[0], let eventType = Self.decodeJSON(EventType.self, text) { return .defined(eventType) }
            return .deleted
        }
    }

    public func putEventType(tenantID: String, _ eventType: EventType) async throws {
        let definition = JSONCoding.encodeText(eventType)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO event_types(tenant_id, key, definition, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(tenant_id, key) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                    """, arguments: [tenantID, eventType.key, definition, Self.ms(Date())])
        }
    }

    public func deleteEventType(tenantID: String, key: String, tombstone: Bool) async throws {
        try await pool.write { db in
            if tombstone {
                try db.execute(
                    sql: """
                        INSERT INTO event_types(tenant_id, key, definition, updated_at) VALUES (?, ?, NULL, ?)
                        ON CONFLICT(tenant_id, key) DO UPDATE SET definition = NULL, updated_at = excluded.updated_at
                        """, arguments: [tenantID, key, Self.ms(Date())])
            } else {
                try db.execute(sql: "DELETE FROM event_types WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
            }
        }
    }
}
