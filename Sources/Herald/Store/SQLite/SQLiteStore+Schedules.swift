import Foundation
import GRDB

extension SQLiteStore {
    private static let scheduleColumns = """
        id, name, cron, timezone, trigger, enabled, next_run_at, last_run_at, last_event_id, last_error, runs, created_at, updated_at
        """

    private static func schedule(from row: Row, at offset: Int = 0) -> Schedule? {
        guard let trigger = decodeJSON(Trigger.self, row[offset + 4]) else { return nil }
        var schedule = Schedule(id: row[offset], name: row[offset + 1], cron: row[offset + 2], timezone: row[offset + 3], trigger: trigger)
        schedule.enabled = row[offset + 5]
        schedule.nextRunAt = date(row[offset + 6])
        schedule.lastRunAt = date(row[offset + 7])
        schedule.lastEventId = row[offset + 8]
        schedule.lastError = row[offset + 9]
        schedule.runs = row[offset + 10]
        schedule.createdAt = date(row[offset + 11])
        schedule.updatedAt = date(row[offset + 12])
        return schedule
    }

    public func createSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule {
        try await pool.write { db in
            let now = schedule.createdAt ?? Date()
            try db.execute(
                sql: """
                    INSERT INTO schedules(id, tenant_id, name, cron, timezone, trigger, enabled, next_run_at, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    schedule.id, tenantID, schedule.name, schedule.cron, schedule.timezone, JSONCoding.encodeText(schedule.trigger),
                    schedule.enabled, Self.ms(schedule.nextRunAt ?? now), Self.ms(now), Self.ms(now),
                ])
            return try Self.schedule(db, tenantID: tenantID, id: schedule.id)!
        }
    }

    private static func schedule(_ db: Database, tenantID: String, id: String) throws -> Schedule? {
        try Row.fetchOne(db, sql: "SELECT \(scheduleColumns) FROM schedules WHERE tenant_id = ? AND id = ?", arguments: [tenantID, id])
            .flatMap { schedule(from: $0) }
    }

    public func schedule(tenantID: String, id: String) async throws -> Schedule? {
        try await pool.read { db in try Self.schedule(db, tenantID: tenantID, id: id) }
    }

    public func schedules(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Schedule> {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT pk, \(Self.scheduleColumns) FROM schedules WHERE tenant_id = ? AND pk > ? ORDER BY pk LIMIT ?",
                arguments: [tenantID, cursor ?? 0, limit + 1])
            let items = rows.prefix(limit).compactMap { Self.schedule(from: $0, at: 1) }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(rows[limit - 1][0]) : nil)
        }
    }

    public func updateSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule? {
        try await pool.write { db in
            let now = schedule.updatedAt ?? Date()
            try db.execute(
                sql: """
                    UPDATE schedules SET name = ?, cron = ?, timezone = ?, trigger = ?, enabled = ?, next_run_at = ?, updated_at = ?,
                        lease_owner = NULL, lease_until = NULL
                    WHERE tenant_id = ? AND id = ?
                    """,
                arguments: [
                    schedule.name, schedule.cron, schedule.timezone, JSONCoding.encodeText(schedule.trigger), schedule.enabled,
                    Self.ms(schedule.nextRunAt ?? now), Self.ms(now), tenantID, schedule.id,
                ])
            guard db.changesCount > 0 else { return nil }
            return try Self.schedule(db, tenantID: tenantID, id: schedule.id)
        }
    }

    public func deleteSchedule(tenantID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM schedules WHERE tenant_id = ? AND id = ?", arguments: [tenantID, id])
            return db.changesCount > 0
        }
    }

    public func claimDueSchedules(owner: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [Schedule] {
        try await pool.write { db in
            let nowMS = Self.ms(now)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT pk, tenant_id, \(Self.scheduleColumns) FROM schedules
                    WHERE enabled = 1 AND next_run_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                    ORDER BY next_run_at LIMIT ?
                    """, arguments: [nowMS, nowMS, limit])
            var claimed: [Schedule] = []
            for row in rows {
                try db.execute(
                    sql: "UPDATE schedules SET lease_owner = ?, lease_until = ? WHERE pk = ?",
                    arguments: [owner, Self.ms(leaseUntil), row[0] as Int64])
                if var schedule = Self.schedule(from: row, at: 2) {
                    schedule.tenantID = row[1]
                    claimed.append(schedule)
                }
            }
            return claimed
        }
    }

    public func finishScheduleRun(
        tenantID: String, id: String, owner: String, ranAt: Date, eventID: String?, error: String?, nextRunAt: Date, now: Date
    ) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_event_id = coalesce(?, last_event_id), last_error = ?,
                        runs = runs + ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                    WHERE tenant_id = ? AND id = ? AND lease_owner = ? AND next_run_at <= ?
                    """,
                arguments: [
                    Self.ms(nextRunAt), Self.ms(ranAt), eventID, error, eventID == nil ? 0 : 1, Self.ms(now), tenantID, id, owner, Self.ms(ranAt),
                ])
            return db.changesCount > 0
        }
    }
}
