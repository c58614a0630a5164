import Foundation
import PostgresNIO

extension PostgresStore {
    public func accept(tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?, now: Date) async throws
        -> AcceptOutcome
    {
        try await write { connection in
            try await Self.accept(connection, logger, tenantID: tenantID, triggers: triggers, idempotency: idempotency, now: now)
        }
    }

    /// Several requests in one transaction (group commit), each inside its own savepoint: one request's
    /// refusal rolls back only what it wrote, and answers only that request.
    public func acceptMany(_ requests: [AcceptRequest], now: Date) async throws -> [Result<AcceptOutcome, any Error>] {
        try await write { connection in
            var outcomes: [Result<AcceptOutcome, any Error>] = []
            for request in requests {
                do {
                    outcomes.append(
                        .success(
                            try await Self.savepoint(connection, logger) {
                                try await Self.accept(
                                    connection, logger, tenantID: request.tenantID, triggers: request.triggers, idempotency: request.idempotency,
                                    now: now)
                            }))
                } catch {
                    outcomes.append(.failure(error))
                }
            }
            return outcomes
        }
    }

    /// One request's triggers (and its idempotency record), inside the caller's transaction.
    static func accept(
        _ connection: PostgresConnection, _ logger: Logger, tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?,
        now: Date
    ) async throws -> AcceptOutcome {
        if let claim = idempotency {
            // Two nodes given the same key at once: the second waits here for the first to commit, then replays it.
            try await connection.run("SELECT pg_advisory_xact_lock(hashtext(\("idempotency:" + tenantID + ":" + claim.key)))", logger)
            if let stored = try await connection.rows(
                "SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = \(tenantID) AND key = \(claim.key)", logger
            ).first {
                guard try stored[0] as String == claim.requestHash else {
                    throw HeraldError.conflict(
                        "Idempotency-Key '\(claim.key)' was already used with a different request body; use a new key for a new request")
                }
                return .replayed(decodeJSON([TriggerReceipt].self, try stored[1]) ?? [])
            }
        }
        let resolver = PreferenceResolver(tenantRules: try await tenantPreferences(connection, logger, tenantID: tenantID))
        let settings = try await plannerSettings(connection, logger, tenantID: tenantID)
        var receipts: [TriggerReceipt] = []
        var errors: [FieldError] = []
        for (index, prepared) in triggers.enumerated() {
            do {
                receipts.append(
                    try await accept(
                        connection, logger, tenantID: tenantID, prepared, resolver: resolver, email: settings.email,
                        destinations: settings.destinations, now: now))
            } catch HeraldError.invalid(let fieldErrors) {
                errors += triggers.count > 1 ? fieldErrors.prefixed("events[\(index)]") : fieldErrors
            }
        }
        // Throwing rolls back everything this request wrote, inline subscribers included.
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
        if let claim = idempotency {
            try await connection.run(
                """
                INSERT INTO idempotency_keys(tenant_id, key, request_hash, response, created_at)
                VALUES (\(tenantID), \(claim.key), \(claim.requestHash), \(JSONCoding.encodeText(receipts)), \(ms(now)))
                """, logger)
        }
        return .accepted(receipts)
    }

    /// Writes one event and plans its direct recipients' messages.
    private static func accept(
        _ connection: PostgresConnection, _ logger: Logger, tenantID: String, _ prepared: PreparedTrigger, resolver: PreferenceResolver,
        email: EmailSettings, destinations: Set<ChannelKind>, now: Date
    ) async throws -> TriggerReceipt {
        let trigger = prepared.trigger
        // Subscribers named by id are looked up together; inline ones are upserted where they stand.
        let ids = trigger.recipients.compactMap { recipient -> String? in
            if case .subscriber(let id) = recipient { return id }
            return nil
        }
        var known: [String: Int64] = [:]
        if !ids.isEmpty {
            for row in try await connection.rows("SELECT id, pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = ANY(\(ids))", logger) {
                known[try row[0]] = try row[1]
            }
        }
        var direct: [Int64] = []
        var seen: Set<Int64> = []
        var topics: [(pk: Int64, key: String)] = []
        var errors: [FieldError] = []
        for (position, recipient) in trigger.recipients.enumerated() {
            switch recipient {
            case .subscriber(let id):
                if let pk = known[id] {
                    if seen.insert(pk).inserted { direct.append(pk) }
                } else {
                    errors.append(FieldError("recipients[\(position)]", "no subscriber '\(id)' in this tenant; add it first or give it inline"))
                }
            case .inline(let input):
                let (pk, _) = try await upsertSubscriber(connection, logger, tenantID: tenantID, input, now: now)
                known[input.id] = pk
                if seen.insert(pk).inserted { direct.append(pk) }
            case .topic(let key):
                if let pk = try await topicPK(connection, logger, tenantID: tenantID, key: key) {
                    if !topics.contains(where: { $0.pk == pk }) { topics.append((pk, key)) }
                } else {
                    errors.append(FieldError("recipients[\(position)].topic", "no topic '\(key)' in this tenant"))
                }
            }
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }

        let eventType = prepared.eventType
        let plan = eventType.plan
        let status = topics.isEmpty ? Event.Status.planned.rawValue : Event.Status.fanningOut.rawValue
        let eventPK: Int64 = try await connection.rows(
            """
            INSERT INTO events(id, tenant_id, type, priority, status, payload, plan, actor, created_at, send_at, expires_at, cancellation_key)
            VALUES (\(prepared.eventID), \(tenantID), \(eventType.key), \(eventType.priority.rank), \(status),
                    \(JSONCoding.encodeText(trigger.payload)), \(JSONCoding.encodeText(plan)), \(trigger.actor), \(ms(now)),
                    \(trigger.sendAt.map(ms)), \(ms(prepared.expiresAt)), \(trigger.cancellationKey))
            RETURNING pk
            """, logger)[0][0]

        var counts: [String: Int] = [:]
        if !direct.isEmpty {
            let rows = try await connection.rows(
                "SELECT s.pk, \(unescaped: subscriberColumns) FROM subscribers s WHERE s.pk = ANY(\(direct)) ORDER BY s.pk", logger)
            let records = try await recipients(connection, logger, rows: rows, subscriberOffset: 1, eventType: eventType.key)
            let planned = MessagePlanner(
                eventType: plan, preferences: resolver, email: email, tenantDestinations: destinations, dueAt: trigger.sendAt ?? now,
                digestKey: plan.digest?.digestKey(payload: trigger.payload)
            ).plan(records)
            try await insertMessages(
                connection, logger, planned,
                PlanningContext(
                    tenantID: tenantID, eventPK: eventPK, plan: plan, payload: trigger.payload, dueAt: trigger.sendAt ?? now, now: now,
                    expiresAt: prepared.expiresAt))
            for message in planned { counts[message.status.rawValue, default: 0] += 1 }
        }
        for topic in topics {
            try await connection.run(
                """
                INSERT INTO fanout_jobs(tenant_id, event_pk, topic_pk, status, available_at)
                VALUES (\(tenantID), \(eventPK), \(topic.pk), 'pending', \(ms(now)))
                """, logger)
        }
        return TriggerReceipt(
            eventId: prepared.eventID, status: topics.isEmpty ? .planned : .fanningOut, messages: counts, topics: topics.map(\.key))
    }

    private static let eventColumns = "id, type, priority, status, payload, actor, created_at, send_at, expires_at, cancellation_key"

    private static func event(from row: SQLRow, at offset: Int = 0) throws -> Event {
        var event = Event(
            id: try row[offset], type: try row[offset + 1], priority: Priority(rank: try row[offset + 2]) ?? .medium,
            status: Event.Status(rawValue: try row[offset + 3]) ?? .planned,
            payload: decodeJSON([String: JSONValue].self, try row[offset + 4]) ?? [:], actor: try row[offset + 5],
            createdAt: date(try row[offset + 6])!, sendAt: date(try row[offset + 7]), expiresAt: date(try row[offset + 8])!)
        event.cancellationKey = try row[offset + 9]
        return event
    }

    public func event(tenantID: String, id: String) async throws -> Event? {
        try await read { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.eventColumns) FROM events WHERE tenant_id = \(tenantID) AND id = \(id)", logger
            ).first.map { try Self.event(from: $0) }
        }
    }

    public func events(tenantID: String, type: String?, cursor: Int64?, limit: Int) async throws -> Page<Event> {
        try await read { connection in
            let rows = try await connection.rows(
                """
                SELECT pk, \(unescaped: Self.eventColumns) FROM events
                WHERE tenant_id = \(tenantID) AND pk < \(cursor ?? Int64.max) AND (\(type)::text IS NULL OR type = \(type))
                ORDER BY pk DESC LIMIT \(limit + 1)
                """, logger)
            let items = try rows.prefix(limit).map { try Self.event(from: $0, at: 1) }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
    }

    public func messageCounts(tenantID: String, eventID: String) async throws -> [String: Int] {
        try await read { connection in
            var counts: [String: Int] = [:]
            for row in try await connection.rows(
                """
                SELECT m.status, count(*) FROM messages m JOIN events e ON e.pk = m.event_pk
                WHERE e.tenant_id = \(tenantID) AND e.id = \(eventID) GROUP BY m.status
                """, logger)
            {
                counts[try row[0]] = try row[1]
            }
            return counts
        }
    }

    public func cancelEvent(tenantID: String, id: String, now: Date) async throws -> Int? {
        try await write { connection in
            guard
                let eventPK: Int64 = try await connection.rows(
                    "SELECT pk FROM events WHERE tenant_id = \(tenantID) AND id = \(id) FOR UPDATE", logger
                ).first.map({ try $0[0] })
            else { return nil }
            return try await Self.cancel(connection, logger, eventPK: eventPK, now: now)
        }
    }

    public func cancelEvents(tenantID: String, cancellationKey: String, now: Date) async throws -> CancellationResult {
        try await write { connection in
            let rows = try await connection.rows(
                """
                SELECT pk, id FROM events WHERE tenant_id = \(tenantID) AND cancellation_key = \(cancellationKey) AND status != 'cancelled'
                ORDER BY pk FOR UPDATE
                """, logger)
            var result = CancellationResult(events: [], messages: 0)
            for row in rows {
                result.messages += try await Self.cancel(connection, logger, eventPK: try row[0], now: now)
                result.events.append(try row[1])
            }
            return result
        }
    }

    /// Cancels one event inside the caller's transaction: its messages that have not gone out, its pending
    /// fan-out, and its items in digests still collecting. A digest's own message stays when the digest
    /// holds other events' items; it goes out without this event's.
    static func cancel(_ connection: PostgresConnection, _ logger: Logger, eventPK: Int64, now: Date) async throws -> Int {
        let nowMS = ms(now)
        // A 'sending' row whose lease ran out belongs to a dispatcher that died; it has not gone out.
        let cancelled = try await connection.count(
            """
            UPDATE messages SET status = 'cancelled', lease_owner = NULL, updated_at = \(nowMS)
            WHERE event_pk = \(eventPK)
            AND (status = 'queued' OR (status = 'sending' AND available_at <= \(nowMS))
                 OR (status = 'merged' AND EXISTS (SELECT 1 FROM digests d WHERE d.id = messages.digest_id AND d.status = 'open')))
            AND NOT (status != 'merged' AND digest_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM messages i WHERE i.digest_id = messages.digest_id AND i.id != messages.id AND i.status = 'merged'))
            RETURNING id
            """, logger)
        // A digest whose own message was cancelled takes no more items: the next one starts a new digest.
        try await connection.run(
            """
            UPDATE digests SET status = 'closed', closed_at = \(nowMS)
            WHERE status = 'open' AND message_id IN (SELECT id FROM messages WHERE event_pk = \(eventPK) AND status = 'cancelled')
            """, logger)
        try await connection.run("UPDATE fanout_jobs SET status = 'cancelled' WHERE event_pk = \(eventPK) AND status = 'pending'", logger)
        try await connection.run("UPDATE events SET status = 'cancelled' WHERE pk = \(eventPK)", logger)
        return cancelled
    }

    // MARK: Fan-out

    public func claimFanoutJob(owner: String, now: Date, leaseUntil: Date) async throws -> FanoutJob? {
        try await write { connection in
            try await connection.rows(
                """
                WITH due AS (
                    SELECT j.id FROM fanout_jobs j JOIN events e ON e.pk = j.event_pk
                    WHERE j.status = 'pending' AND j.available_at <= \(Self.ms(now)) ORDER BY e.priority, j.id LIMIT 1
                    FOR UPDATE OF j SKIP LOCKED
                )
                UPDATE fanout_jobs j SET lease_owner = \(owner), available_at = \(Self.ms(leaseUntil))
                FROM due, events e WHERE j.id = due.id AND e.pk = j.event_pk
                RETURNING j.id, j.tenant_id, e.id, j.topic_pk, j.cursor
                """, logger
            ).first.map { row in
                FanoutJob(id: try row[0], tenantID: try row[1], eventID: try row[2], topicRowID: try row[3], cursor: try row[4])
            }
        }
    }

    public func fanoutChunk(_ job: FanoutJob, owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> (
        FanoutJob, FanoutProgress
    ) {
        try await write { connection in
            guard
                let jobRow = try await connection.rows(
                    """
                    SELECT j.cursor, j.event_pk, e.plan, e.send_at, e.expires_at, e.payload FROM fanout_jobs j JOIN events e ON e.pk = j.event_pk
                    WHERE j.id = \(job.id) AND j.status = 'pending' AND j.lease_owner = \(owner) FOR UPDATE OF j
                    """, logger
                ).first,
                let plan = Self.decodeJSON(EventType.self, try jobRow[2])
            else {
                // Cancelled, finished or taken over by another worker: nothing more for this one to do.
                return (job, FanoutProgress(planned: 0, finished: true))
            }
            var job = job
            job.cursor = try jobRow[0]
            let eventPK: Int64 = try jobRow[1]
            let sendAt = Self.date(try jobRow[3])
            let expiresAt = Self.date(try jobRow[4])!
            let members = try await connection.rows(
                """
                SELECT m.subscriber_pk, \(unescaped: Self.subscriberColumns) FROM topic_members m JOIN subscribers s ON s.pk = m.subscriber_pk
                WHERE m.topic_pk = \(job.topicRowID) AND m.subscriber_pk > \(job.cursor) ORDER BY m.subscriber_pk LIMIT \(limit)
                """, logger)
            let records = try await Self.recipients(connection, logger, rows: members, subscriberOffset: 1, eventType: plan.key)
            let resolver = PreferenceResolver(tenantRules: try await Self.tenantPreferences(connection, logger, tenantID: job.tenantID))
            let settings = try await Self.plannerSettings(connection, logger, tenantID: job.tenantID)
            let payload = Self.decodeJSON([String: JSONValue].self, try jobRow[5]) ?? [:]
            let planned = MessagePlanner(
                eventType: plan, preferences: resolver, email: settings.email, tenantDestinations: settings.destinations, dueAt: sendAt ?? now,
                digestKey: plan.digest?.digestKey(payload: payload)
            ).plan(records)
            try await Self.insertMessages(
                connection, logger, planned,
                PlanningContext(
                    tenantID: job.tenantID, eventPK: eventPK, plan: plan, payload: payload, dueAt: sendAt ?? now, now: now, expiresAt: expiresAt))
            let finished = members.count < limit
            if let last = records.last { job.cursor = last.rowID }
            try await connection.run(
                """
                UPDATE fanout_jobs SET cursor = \(job.cursor), status = \(finished ? "done" : "pending"), available_at = \(Self.ms(leaseUntil))
                WHERE id = \(job.id)
                """, logger)
            if finished {
                try await connection.run(
                    """
                    UPDATE events SET status = 'planned' WHERE pk = \(eventPK) AND status = 'fanning_out'
                    AND NOT EXISTS (SELECT 1 FROM fanout_jobs WHERE event_pk = \(eventPK) AND status = 'pending')
                    """, logger)
            }
            return (job, FanoutProgress(planned: planned.count, finished: finished))
        }
    }
}
