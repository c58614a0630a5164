import Foundation
import GRDB

extension SQLiteStore {
    public func upsertSubscriber(tenantID: String, _ input: SubscriberInput) async throws -> (Subscriber, created: Bool) {
        try await pool.write { db in
            let (pk, created) = try Self.upsertSubscriber(db, tenantID: tenantID, input, now: Date())
            let row = try Row.fetchOne(db, sql: "SELECT \(Self.subscriberColumns) FROM subscribers s WHERE pk = ?", arguments: [pk])!
            return (Self.subscriber(from: row, at: 0), created)
        }
    }

    /// Inserts or updates a subscriber, keeping stored fields the input leaves out. Returns its row and whether it is new.
    static func upsertSubscriber(_ db: Database, tenantID: String, _ input: SubscriberInput, now: Date) throws -> (Int64, Bool) {
        let data = input.data.map { JSONCoding.encodeText($0) }
        // Quiet hours distinguish "leave as is" (nil) from "remove" (.some(nil)).
        let changesQuietHours = input.quietHours != nil
        let quietHours = (input.quietHours ?? nil).map { JSONCoding.encodeText($0) }
        let existing = try tenantSubscriberPK(db, tenantID: tenantID, id: input.id)
        if let pk = existing {
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE subscribers SET name = coalesce(?, name), email = coalesce(?, email), phone = coalesce(?, phone),
                    locale = coalesce(?, locale), timezone = coalesce(?, timezone), data = coalesce(?, data),
                    quiet_hours = CASE WHEN ? THEN ? ELSE quiet_hours END, updated_at = ?
                    WHERE pk = ?
                    """)
            try statement.execute(arguments: [
                input.name, input.email, input.phone, input.locale, input.timezone, data, changesQuietHours, quietHours, ms(now), pk,
            ])
            return (pk, false)
        }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO subscribers(tenant_id, id, name, email, phone, locale, timezone, data, quiet_hours, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        try statement.execute(arguments: [
            tenantID, input.id, input.name, input.email, input.phone, input.locale, input.timezone, data, quietHours, ms(now), ms(now),
        ])
        return (db.lastInsertedRowID, true)
    }

    public func upsertSubscribers(tenantID: String, _ inputs: [SubscriberInput]) async throws -> Int {
        try await pool.write { db in
            let now = Date()
            var created = 0
            for input in inputs where try Self.upsertSubscriber(db, tenantID: tenantID, input, now: now).1 {
                created += 1
            }
            return created
        }
    }

    public func subscriber(tenantID: String, id: String) async throws -> Subscriber? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.subscriberColumns) FROM subscribers s WHERE tenant_id = ? AND id = ?", arguments: [tenantID, id]
            ).map { Self.subscriber(from: $0, at: 0) }
        }
    }

    public func subscribers(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Subscriber> {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT s.pk, \(Self.subscriberColumns) FROM subscribers s WHERE tenant_id = ? AND pk > ? ORDER BY pk LIMIT ?",
                arguments: [tenantID, cursor ?? 0, limit + 1])
            let items = rows.prefix(limit).map { Self.subscriber(from: $0, at: 1) }
            let next: String? = rows.count > limit ? Cursor.encode(rows[limit - 1][0]) : nil
            return Page(items: Array(items), nextCursor: next)
        }
    }

    public func deleteSubscriber(tenantID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: id) else { return false }
            // Messages are not tied to the subscriber by a foreign key (it would cost every queue insert a lookup),
            // so a subscriber's messages go explicitly: deleting a person removes what was kept about them.
            // Runs first: on PostgreSQL this waits for a runner advancing one, so the messages it planned go too.
            try db.execute(sql: "DELETE FROM workflow_runs WHERE subscriber_pk = ?", arguments: [pk])
            try db.execute(sql: "DELETE FROM messages WHERE subscriber_pk = ?", arguments: [pk])
            try db.execute(sql: "DELETE FROM subscribers WHERE pk = ?", arguments: [pk])
            return true
        }
    }

    public func preferences(tenantID: String, subscriberID: String) async throws -> [PreferenceRule]? {
        try await pool.read { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return nil }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT event_type, channel, enabled, unsubscribed, digest FROM preferences WHERE subscriber_pk = ? ORDER BY event_type, channel",
                arguments: [pk]
            ).map {
                PreferenceRule(
                    eventType: $0[0], channel: $0[1], enabled: $0[2], unsubscribed: $0[3], digest: Self.decodeJSON(DigestSpec.self, $0[4]))
            }
        }
    }

    public func setPreferences(tenantID: String, subscriberID: String, _ rules: [PreferenceRule], replace: Bool) async throws -> Bool {
        try await pool.write { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return false }
            if replace { try db.execute(sql: "DELETE FROM preferences WHERE subscriber_pk = ?", arguments: [pk]) }
            for rule in rules {
                try db.execute(
                    sql: """
                        INSERT INTO preferences(subscriber_pk, event_type, channel, enabled, unsubscribed, digest) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT(subscriber_pk, event_type, channel)
                        DO UPDATE SET enabled = excluded.enabled, unsubscribed = excluded.unsubscribed, digest = excluded.digest
                        """, arguments: [pk, rule.eventType, rule.channel, rule.enabled, rule.unsubscribed, rule.digest.map(JSONCoding.encodeText)])
            }
            return true
        }
    }

    public func tenantPreferences(tenantID: String) async throws -> [PreferenceRule] {
        try await pool.read { db in try Self.tenantPreferences(db, tenantID: tenantID) }
    }

    static func tenantPreferences(_ db: Database, tenantID: String) throws -> [PreferenceRule] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT event_type, channel, enabled FROM tenant_preferences WHERE tenant_id = ? ORDER BY event_type, channel"),
            arguments: [tenantID]
        ).map { PreferenceRule(eventType: $0[0], channel: $0[1], enabled: $0[2]) }
    }

    public func setTenantPreferences(tenantID: String, _ rules: [PreferenceRule], replace: Bool) async throws {
        try await pool.write { db in
            if replace { try db.execute(sql: "DELETE FROM tenant_preferences WHERE tenant_id = ?", arguments: [tenantID]) }
            for rule in rules {
                try db.execute(
                    sql: """
                        INSERT INTO tenant_preferences(tenant_id, event_type, channel, enabled) VALUES (?, ?, ?, ?)
                        ON CONFLICT(tenant_id, event_type, channel) DO UPDATE SET enabled = excluded.enabled
                        """, arguments: [tenantID, rule.eventType, rule.channel, rule.enabled])
            }
        }
    }

    /// Loads recipients with their preference rules for the given subscriber rows, in one query each.
    static func recipients(_ db: Database, rows: [Row], subscriberOffset: Int, eventType: String) throws -> [RecipientRecord] {
        guard !rows.isEmpty else { return [] }
        var records: [RecipientRecord] = rows.map { row in
            RecipientRecord(rowID: row[0], subscriber: subscriber(from: row, at: subscriberOffset), rules: [])
        }
        var index: [Int64: Int] = [:]
        for (position, record) in records.enumerated() { index[record.rowID] = position }
        let pks = records.map(\.rowID)
        for chunk in stride(from: 0, to: pks.count, by: 900) {
            let slice = Array(pks[chunk..<min(chunk + 900, pks.count)])
            let ruleRows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT subscriber_pk, event_type, channel, enabled, unsubscribed, digest FROM preferences
                        WHERE subscriber_pk IN (\(placeholders(slice.count))) AND event_type IN (?, '*')
                        """), arguments: StatementArguments(slice.map { $0 as (any DatabaseValueConvertible) } + [eventType]))
            for rule in ruleRows {
                if let position = index[rule[0]] {
                    records[position].rules.append(
                        PreferenceRule(
                            eventType: rule[1], channel: rule[2], enabled: rule[3], unsubscribed: rule[4],
                            digest: decodeJSON(DigestSpec.self, rule[5])))
                }
            }
        }
        return records
    }
}

extension SQLiteStore {
    public func plannerInputs(tenantID: String, subscriberRowIDs: [Int64], eventType: String) async throws -> PlannerInputs {
        try await pool.read { db in
            var recipients: [Int64: RecipientRecord] = [:]
            for chunk in stride(from: 0, to: subscriberRowIDs.count, by: 900) {
                let slice = Array(subscriberRowIDs[chunk..<min(chunk + 900, subscriberRowIDs.count)])
                let rows = try Row.fetchAll(
                    db, sql: "SELECT s.pk, \(Self.subscriberColumns) FROM subscribers s WHERE s.tenant_id = ? AND s.pk IN (\(Self.placeholders(slice.count)))",
                    arguments: StatementArguments([tenantID as any DatabaseValueConvertible] + slice.map { $0 as any DatabaseValueConvertible }))
                for record in try Self.recipients(db, rows: rows, subscriberOffset: 1, eventType: eventType) { recipients[record.rowID] = record }
            }
            return PlannerInputs(
                recipients: recipients, preferences: PreferenceResolver(tenantRules: try Self.tenantPreferences(db, tenantID: tenantID)),
                email: try Self.emailSettings(db, tenantID: tenantID), destinations: try Self.tenantDestinations(db, tenantID: tenantID))
        }
    }
}
