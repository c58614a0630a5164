import Foundation
import PostgresNIO

extension PostgresStore {
    private static let scheduleColumns = """
        id, name, cron, timezone, trigger, enabled, next_run_at, last_run_at, last_event_id, last_error, runs, created_at, updated_at
        """

    private static func schedule(from row: SQLRow, at offset: Int = 0) throws -> Schedule? {
        guard let trigger = decodeJSON(Trigger.self, try row[offset + 4]) else { return nil }
        var schedule = Schedule(
            id: try row[offset], name: try row[offset + 1], cron: try row[offset + 2], timezone: try row[offset + 3], trigger: trigger)
        schedule.enabled = try row[offset + 5]
        schedule.nextRunAt = date(try row[offset + 6])
        schedule.lastRunAt = date(try row[offset + 7])
        schedule.lastEventId = try row[offset + 8]
        schedule.lastError = try row[offset + 9]
        schedule.runs = try row[offset + 10]
        schedule.createdAt = date(try row[offset + 11])
        schedule.updatedAt = date(try row[offset + 12])
        return schedule
    }

    public func createSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule {
        try await write { connection in
            let now = schedule.createdAt ?? Date()
            try await connection.run(
                """
                INSERT INTO schedules(id, tenant_id, name, cron, timezone, trigger, enabled, next_run_at, created_at, updated_at)
                VALUES (\(schedule.id), \(tenantID), \(schedule.name), \(schedule.cron), \(schedule.timezone),
                        \(JSONCoding.encodeText(schedule.trigger)), \(schedule.enabled), \(Self.ms(schedule.nextRunAt ?? now)), \(Self.ms(now)),
                        \(Self.ms(now)))
                """, logger)
            return try await Self.schedule(connection, logger, tenantID: tenantID, id: schedule.id)!
        }
    }

    private static func schedule(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, id: String) async throws -> Schedule? {
        try await connection.rows(
            "SELECT \(unescaped: scheduleColumns) FROM schedules WHERE tenant_id = \(tenantID) AND id = \(id)", logger
        ).first.flatMap { try schedule(from: $0) }
    }

    public func schedule(tenantID: String, id: String) async throws -> Schedule? {
        try await read { connection in try await Self.schedule(connection, logger, tenantID: tenantID, id: id) }
    }

    public func schedules(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Schedule> {
        try await read { connection in
            let rows = try await connection.rows(
                """
                SELECT pk, \(unescaped: Self.scheduleColumns) FROM schedules WHERE tenant_id = \(tenantID) AND pk > \(cursor ?? 0)
                ORDER BY pk LIMIT \(limit + 1)
                """, logger)
            let items = try rows.prefix(limit).compactMap { try Self.schedule(from: $0, at: 1) }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
    }

    public func updateSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule? {
        try await write { connection in
            let now = schedule.updatedAt ?? Date()
            let updated = try await connection.count(
                """
                UPDATE schedules SET name = \(schedule.name), cron = \(schedule.cron), timezone = \(schedule.timezone),
                    trigger = \(JSONCoding.encodeText(schedule.trigger)), enabled = \(schedule.enabled),
                    next_run_at = \(Self.ms(schedule.nextRunAt ?? now)), updated_at = \(Self.ms(now)), lease_owner = NULL, lease_until = NULL
                WHERE tenant_id = \(tenantID) AND id = \(schedule.id)
                RETURNING pk
                """, logger)
            guard updated > 0 else { return nil }
            return try await Self.schedule(connection, logger, tenantID: tenantID, id: schedule.id)
        }
    }

    public func deleteSchedule(tenantID: String, id: String) async throws -> Bool {
        try await write { connection in
            try await connection.count("DELETE FROM schedules WHERE tenant_id = \(tenantID) AND id = \(id) RETURNING pk", logger) > 0
        }
    }

    /// One statement claims the due schedules no live lease holds; rows another node is claiming are skipped.
    public func claimDueSchedules(owner: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [Schedule] {
        try await write { connection in
            let nowMS = Self.ms(now)
            let rows = try await connection.rows(
                """
                WITH due AS (
                    SELECT pk FROM schedules
                    WHERE enabled AND next_run_at <= \(nowMS) AND (lease_until IS NULL OR lease_until <= \(nowMS))
                    ORDER BY next_run_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                UPDATE schedules s SET lease_owner = \(owner), lease_until = \(Self.ms(leaseUntil))
                FROM due WHERE s.pk = due.pk
                RETURNING s.next_run_at, s.tenant_id, \(unescaped: Self.scheduleColumns.split(separator: ",").map { "s." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
                """, logger)
            return try rows.compactMap { row -> (Int64, Schedule)? in
                guard var schedule = try Self.schedule(from: row, at: 2) else { return nil }
                schedule.tenantID = try row[1]
                return (try row[0], schedule)
            }.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func finishScheduleRun(
        tenantID: String, id: String, owner: String, ranAt: Date, eventID: String?, error: String?, nextRunAt: Date, now: Date
    ) async throws -> Bool {
        try await write { connection in
            try await connection.count(
                """
                UPDATE schedules SET next_run_at = \(Self.ms(nextRunAt)), last_run_at = \(Self.ms(ranAt)),
                    last_event_id = coalesce(\(eventID), last_event_id), last_error = \(error), runs = runs + \(eventID == nil ? 0 : 1),
                    lease_owner = NULL, lease_until = NULL, updated_at = \(Self.ms(now))
                WHERE tenant_id = \(tenantID) AND id = \(id) AND lease_owner = \(owner) AND next_run_at <= \(Self.ms(ranAt))
                RETURNING pk
                """, logger) > 0
        }
    }
}
