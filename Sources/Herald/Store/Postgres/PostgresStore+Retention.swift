import Foundation
import Logging
import PostgresNIO

/// Retention on PostgreSQL: whole days of history go by dropping their partitions (PartitionedHistory);
/// a `DELETE` runs only where it must.
extension PostgresStore {
    /// One sweep, by one node at a time: the sweep holds a session-level advisory lock, and a node that
    /// cannot take it at once leaves this round to the one that has it (and returns nothing removed).
    ///
    /// Each day partition before today falls in one of three cases:
    /// - every row in it has expired: its three tables are dropped, with what hangs off their rows, in a
    ///   transaction of its own that waits at most two seconds for its locks (a drop takes the parent's
    ///   exclusive lock for a moment; under a long reader it waits for the next round rather than queue
    ///   every query behind it). No dead row is left and nothing is vacuumed;
    /// - its last row expires within a day: expired rows wait for the drop, hidden from every read
    ///   (``SQLDatabase/inbox(tenantID:subscriberID:filter:cursor:limit:)`` and the activity log filter
    ///   on `expires_at`), so retention by days costs no `DELETE`;
    /// - otherwise (an event type kept for longer shares the day with shorter ones): its expired rows are
    ///   deleted, as are those of today's and later partitions and of the `_legacy` ones.
    public func deleteExpired(now: Date, idempotencyCutoff: Date, limit: Int) async throws -> CleanupResult {
        try await withConnection { connection in
            let lock = try await connection.rows("SELECT pg_try_advisory_lock(hashtext('cleanup:' || current_schema()))", logger)
            guard let row = lock.first, try row[0] as Bool else { return CleanupResult(messages: 0, events: 0, idempotencyKeys: 0) }
            do {
                let result = try await sweep(connection, now: now, idempotencyCutoff: idempotencyCutoff, limit: limit)
                try await connection.run("SELECT pg_advisory_unlock(hashtext('cleanup:' || current_schema()))", logger)
                return result
            } catch {
                await connection.tidy("ROLLBACK", logger)
                await connection.tidy("SELECT pg_advisory_unlock(hashtext('cleanup:' || current_schema()))", logger)
                throw error
            }
        }
    }

    private func sweep(_ connection: PostgresConnection, now: Date, idempotencyCutoff: Date, limit: Int) async throws -> CleanupResult {
        let nowMS = Self.ms(now)
        var result = CleanupResult(messages: 0, events: 0, idempotencyKeys: 0)
        let today: Int64 = try await connection.rows(PostgresQuery(unsafeSQL: "SELECT \(PartitionedHistory.today)"), logger)[0][0]
        let interrupted = try await finishInterruptedDrops(connection, today: today)
        result.droppedPartitions += interrupted.finished
        try await Self.ensurePartitions(connection, logger)
        for partition in try await Self.historyPartitions(connection, logger, today: today) {
            switch partition.fate(now: nowMS) {
            case .drop:
                // A parent with a detach still pending takes no other until it is finalized.
                guard !interrupted.stillPending else { continue }
                if try await drop(partition, connection) { result.droppedPartitions += 1 }
            case .keep:
                // A past day whose rows all expire within a day: dropped as soon as the last one has.
                if partition.day.map({ $0 < today }) == true, let last = partition.latestExpiry, last > nowMS {
                    let at = Timestamp.date(millis: last)
                    result.nextDropAt = min(result.nextDropAt ?? at, at)
                }
            case .deleteExpired:
                let budget = limit - max(result.messages, result.events)
                guard budget > 0 else { continue }
                let removed = try await Self.transaction(connection, logger) {
                    try await Self.deleteExpired(in: partition, connection, logger, now: nowMS, limit: budget)
                }
                result.messages += removed.messages
                result.events += removed.events
            }
        }
        try await Self.transaction(connection, logger) {
            result.idempotencyKeys = try await connection.count(
                "DELETE FROM idempotency_keys WHERE created_at < \(Self.ms(idempotencyCutoff)) RETURNING key", logger)
            try await Self.deleteExpiredFlowState(connection, logger, now: now, limit: limit)
        }
        return result
    }

    /// Drops a day's three partitions and what hangs off their rows; false when a lock was not to be had
    /// in time (the next round goes on from where this one stopped).
    ///
    /// In three steps, so that no query of the parents waits while gigabytes are unlinked (a plain
    /// `DROP TABLE` of a partition holds the parent's exclusive lock until its files are gone): what hangs
    /// off the day and its `attempts` partition, in one short transaction (``HistoryPartition/dropPreparation``);
    /// its `messages` and `events` partitions detached concurrently; then the detached tables dropped. A
    /// round that dies between the steps leaves what ``finishInterruptedDrops(_:today:)`` finishes.
    private func drop(_ partition: HistoryPartition, _ connection: PostgresConnection) async throws -> Bool {
        let clock = ContinuousClock()
        let started = clock.now
        guard
            try await Self.lockingBriefly(connection, logger, partition, {
                for statement in partition.dropPreparation { try await connection.run(PostgresQuery(unsafeSQL: statement), logger) }
            })
        else { return false }
        let prepared = clock.now
        for (parent, table) in partition.concurrentDetachments {
            guard try await Self.isAttached(table, to: parent, connection, logger) else { continue }
            guard try await detachConcurrently(table, from: parent, connection) else { return false }
        }
        let detached = clock.now
        guard
            try await Self.lockingBriefly(connection, logger, partition, {
                try await connection.run(PostgresQuery(unsafeSQL: partition.dropDetached), logger)
            })
        else { return false }
        func seconds(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) -> String {
            String(format: "%.3f", from.duration(to: to) / .seconds(1))
        }
        // Each step's time: only the first holds a lock that stops queries of `attempts`; the detaches let
        // every query of the parents through, and the last step's unlinking concerns tables no query reaches.
        logger.notice(
            "retention dropped a day of history",
            metadata: [
                "partition": "\(partition.suffix)", "seconds": "\(seconds(started, clock.now))", "prepare_seconds": "\(seconds(started, prepared))",
                "detach_seconds": "\(seconds(prepared, detached))", "drop_seconds": "\(seconds(detached, clock.now))",
            ])
        return true
    }

    /// Runs `body` in a transaction that waits at most two seconds for a lock; false when it timed out (a
    /// long reader of the day: the next round tries again rather than queue every query behind it).
    private static func lockingBriefly(
        _ connection: PostgresConnection, _ logger: Logger, _ partition: HistoryPartition,
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Void
    ) async throws -> Bool {
        do {
            try await transaction(connection, logger) {
                try await connection.run("SET LOCAL lock_timeout = '2s'", logger)
                try await body()
            }
            return true
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
            logger.notice("retention could not lock a day of history to drop it; next round", metadata: ["partition": "\(partition.suffix)"])
            return false
        }
    }

    /// `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`; false when it waited too long, leaving the detach
    /// pending for the next round to finalize.
    private func detachConcurrently(_ table: String, from parent: String, _ connection: PostgresConnection) async throws -> Bool {
        try await waitingBoundedly(
            "ALTER TABLE \(parent) DETACH PARTITION \(table) CONCURRENTLY", connection,
            notice: "retention waited too long to detach a day of history; next round", partition: table)
    }

    /// Runs a statement that waits for other transactions (a concurrent detach, or its `FINALIZE`: for
    /// those that could still see the partition, which can include any long transaction in the database),
    /// for at most ten seconds. Nobody waits on it meanwhile: its lock on the parent blocks neither reads
    /// nor writes. False when the time ran out; the next round tries again.
    private func waitingBoundedly(_ statement: String, _ connection: PostgresConnection, notice: Logger.Message, partition: String) async throws -> Bool {
        try await connection.run("SET lock_timeout = '10s'", logger)
        do {
            try await connection.run(PostgresQuery(unsafeSQL: statement), logger)
            try await connection.run("RESET lock_timeout", logger)
            return true
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
            await connection.tidy("RESET lock_timeout", logger)
            logger.notice(notice, metadata: ["partition": "\(partition)"])
            return false
        } catch {
            await connection.tidy("RESET lock_timeout", logger)
            throw error
        }
    }

    private static func isAttached(_ table: String, to parent: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await connection.rows(
            PostgresQuery(
                unsafeSQL: "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass('\(table)') AND inhparent = to_regclass('\(parent)'))"),
            logger)[0][0]
    }

    /// What a drop interrupted by a crash, or by a lock it waited for too long, left: a detach still
    /// pending is finalized, and a day whose `events` partition is no longer attached has its detached
    /// tables dropped. Only days before today are touched. Returns how many days it finished, and whether
    /// a detach is still pending (its `FINALIZE` waited too long).
    private func finishInterruptedDrops(_ connection: PostgresConnection, today: Int64) async throws -> (finished: Int, stillPending: Bool) {
        var unattachedDays: Set<Int64> = []
        var stillPending = false
        for row in try await connection.rows(PostgresQuery(unsafeSQL: PartitionedHistory.interruptedDrops), logger) {
            let (name, parent, pending): (String, String?, Bool) = (try row[0], try row[1], try row[2])
            let table = PartitionedHistory.tables.first { PartitionedHistory.day(ofPartition: name, table: $0) != nil }
            guard let table, let day = PartitionedHistory.day(ofPartition: name, table: table), day < today else { continue }
            if pending, let parent {
                guard
                    try await waitingBoundedly(
                        "ALTER TABLE \(parent) DETACH PARTITION \"\(name)\" FINALIZE", connection,
                        notice: "retention waited too long to finish detaching a day of history; next round", partition: name)
                else {
                    stillPending = true
                    continue
                }
            }
            if table == "events" { unattachedDays.insert(day) }
        }
        var finished = 0
        for day in unattachedDays.sorted() {
            let partition = HistoryPartition(suffix: PartitionedHistory.stamp(day: day), today: today)
            if try await Self.lockingBriefly(connection, logger, partition, {
                try await connection.run(PostgresQuery(unsafeSQL: partition.dropDetached), logger)
            }) {
                logger.notice("retention finished dropping a day of history", metadata: ["partition": "\(partition.suffix)"])
                finished += 1
            }
        }
        return (finished, stillPending)
    }

    /// Expired messages of one partition (with their attempts and email feedback), then its expired
    /// events that have no message left (with their fan-out jobs, workflow runs and attachments).
    private static func deleteExpired(
        in partition: HistoryPartition, _ connection: PostgresConnection, _ logger: Logger, now: Int64, limit: Int
    ) async throws -> (messages: Int, events: Int) {
        let (events, messages, attempts) = partition.tables
        let messageRows = try await connection.rows(
            PostgresQuery(
                unsafeSQL: """
                    WITH gone AS (
                        DELETE FROM \(messages) WHERE id IN (
                            SELECT id FROM \(messages) WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
                        RETURNING id),
                    attempts_gone AS (DELETE FROM \(attempts) a USING gone WHERE a.message_id = gone.id),
                    queue_gone AS (DELETE FROM queue q USING gone WHERE q.message_id = gone.id),
                    feedback_gone AS (DELETE FROM email_feedback f USING gone WHERE f.message_id = gone.id)
                    SELECT count(*) FROM gone
                    """, binds: bindings(now, Int64(limit))), logger)
        let eventRows = try await connection.rows(
            PostgresQuery(
                unsafeSQL: """
                    WITH gone AS (
                        DELETE FROM \(events) WHERE pk IN (
                            SELECT pk FROM \(events) e WHERE expires_at < $1
                            AND NOT EXISTS (SELECT 1 FROM \(messages) m WHERE m.event_pk = e.pk) LIMIT $2 FOR UPDATE SKIP LOCKED)
                        RETURNING pk),
                    jobs_gone AS (DELETE FROM fanout_jobs j USING gone WHERE j.event_pk = gone.pk),
                    runs_gone AS (DELETE FROM workflow_runs r USING gone WHERE r.event_pk = gone.pk),
                    files_gone AS (DELETE FROM event_attachments a USING gone WHERE a.event_pk = gone.pk)
                    SELECT count(*) FROM gone
                    """, binds: bindings(now, Int64(limit))), logger)
        return (Int(try messageRows[0][0] as Int64), Int(try eventRows[0][0] as Int64))
    }

    private static func bindings(_ values: Int64...) -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        return bindings
    }

    /// The first event key a read of many days (the activity log, the stats) must consider: the days before
    /// it have wholly expired and wait for retention's drop (``ExpiredDays``). `Int64.min` when none has.
    ///
    /// The bounds are only a shortcut, so reading them never fails or holds up the read they serve. Another
    /// node may drop a day between the listing of the partitions and the probe of its table (the table is gone,
    /// or locked while its files go): the probe waits at most 200 ms, and then the read goes without a floor,
    /// and the next one reads the bounds again.
    func liveHistoryFloor(_ connection: PostgresConnection) async -> Int64 {
        do {
            return try await expiredDays.floor(now: Self.ms(Date())) {
                try await Self.transaction(connection, logger) {
                    try await connection.run("SET LOCAL lock_timeout = '200ms'", logger)
                    let row = try await connection.rows(
                        PostgresQuery(unsafeSQL: "SELECT \(PartitionedHistory.today), floor(extract(epoch FROM now()) * 1000)::bigint"), logger)[0]
                    let today: Int64 = try row[0]
                    return (try row[1], try await Self.historyPartitions(connection, logger, today: today))
                }
            } ?? .min
        } catch {
            logger.debug("read without skipping expired days: their bounds could not be read", metadata: ["error": "\(error)"])
            return .min
        }
    }

    /// The history's partitions with the expiry bounds of their rows, read in one statement (each bound
    /// is one probe of the partition's `expires_at` index).
    static func historyPartitions(_ connection: PostgresConnection, _ logger: Logger, today: Int64) async throws -> [HistoryPartition] {
        let names = try await connection.rows(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass('events') ORDER BY c.relname
            """, logger
        ).map { try $0[0] as String }
        var partitions: [HistoryPartition] = []
        for name in names {
            let suffix = String(name.dropFirst("events_".count))
            guard suffix == "legacy" || PartitionedHistory.day(stamp: suffix) != nil else { continue }
            partitions.append(HistoryPartition(suffix: suffix, today: today))
        }
        guard !partitions.isEmpty else { return [] }
        let probes = partitions.map { partition in
            let (events, messages, _) = partition.tables
            return """
                SELECT '\(partition.suffix)', (SELECT min(expires_at) FROM \(messages)), (SELECT max(expires_at) FROM \(messages)),
                       (SELECT min(expires_at) FROM \(events)), (SELECT max(expires_at) FROM \(events))
                """
        }
        var bySuffix: [String: (Int64?, Int64?)] = [:]
        for row in try await connection.rows(PostgresQuery(unsafeSQL: probes.joined(separator: " UNION ALL ")), logger) {
            let bounds: [Int64?] = [try row[1], try row[2], try row[3], try row[4]]
            bySuffix[try row[0]] = (bounds.compactMap { $0 }.min(), bounds.compactMap { $0 }.max())
        }
        for index in partitions.indices {
            (partitions[index].earliestExpiry, partitions[index].latestExpiry) = bySuffix[partitions[index].suffix] ?? (nil, nil)
        }
        return partitions
    }

    /// Makes the partitions of today and the next three days that are missing, in a transaction of its own.
    static func ensurePartitions(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await transaction(connection, logger) {
            for statement in PartitionedHistory.ensure { try await connection.run(PostgresQuery(unsafeSQL: statement), logger) }
        }
    }

    /// Runs `body` in a transaction on `connection`: committed when it returns, rolled back when it throws
    /// (the error thrown is `body`'s own).
    static func transaction<T>(
        _ connection: PostgresConnection, _ logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        do {
            try await connection.run("BEGIN", logger)
        } catch let error as PSQLError where isEndedConnection(error) {
            // Nothing of `body` ran: ``withConnection(_:)`` takes another connection and starts again.
            throw EndedConnection(error: error)
        }
        do {
            let value = try await body()
            try await connection.run("COMMIT", logger)
            return value
        } catch {
            await connection.tidy("ROLLBACK", logger)
            throw error
        }
    }
}
