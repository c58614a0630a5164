import Foundation
import PostgresNIO

extension PostgresStore {
    public func accept(tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?, now: Date) async throws
        -> AcceptOutcome
    {
        let (outcome, announcement) = try await write { connection in
            try await Self.accept(connection, logger, tenantID: tenantID, triggers: triggers, idempotency: idempotency, now: now)
        }
        await announcement?.send()
        return outcome
    }

    /// Several requests in one transaction (group commit), each inside its own savepoint: one request's
    /// refusal rolls back only what it wrote, and answers only that request.
    public func acceptMany(_ requests: [AcceptRequest], now: Date) async throws -> [Result<AcceptOutcome, any Error>] {
        let (outcomes, announcements) = try await write { connection in
            var outcomes: [Result<AcceptOutcome, any Error>] = []
            var announcements: [InAppAnnouncement] = []
            for request in requests {
                do {
                    let (outcome, announcement) = try await Self.savepoint(connection, logger) {
                        try await Self.accept(
                            connection, logger, tenantID: request.tenantID, triggers: request.triggers, idempotency: request.idempotency,
                            now: now)
                    }
                    outcomes.append(.success(outcome))
                    if let announcement { announcements.append(announcement) }
                } catch {
                    outcomes.append(.failure(error))
                }
            }
            return (outcomes, announcements)
        }
        await InAppAnnouncement(merging: announcements)?.send()
        return outcomes
    }

    /// One request's triggers (and its idempotency record), inside the caller's transaction.
    static func accept(
        _ connection: PostgresConnection, _ logger: Logger, tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?,
        now: Date
    ) async throws -> (AcceptOutcome, InAppAnnouncement?) {
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
                return (.replayed(decodeJSON([TriggerReceipt].self, try stored[1]) ?? []), nil)
            }
        }
        let tenant = try await planningTenant(connection, logger, tenantID: tenantID)
        // Throwing rolls back everything this request wrote, inline subscribers included.
        let (receipts, announcement) = try await acceptTriggers(
            connection, logger, tenantID: tenantID, triggers, tenant: tenant,
            now: now)
        if let claim = idempotency {
            try await connection.run(
                """
                INSERT INTO idempotency_keys(tenant_id, key, request_hash, response, created_at)
                VALUES (\(tenantID), \(claim.key), \(claim.requestHash), \(JSONCoding.encodeText(receipts)), \(ms(now)))
                """, logger)
        }
        return (.accepted(receipts), announcement)
    }

    /// Writes a request's events and plans their direct recipients' messages, a few statements for the
    /// whole request however many triggers it holds: one lookup of the subscribers and topics it names, one
    /// insert of its events, one read of its recipients and their rules, one insert of its messages (events
    /// with flow control plan theirs one by one). Throws `invalid` naming every bad recipient.
    private static func acceptTriggers(
        _ connection: PostgresConnection, _ logger: Logger, tenantID: String, _ triggers: [PreparedTrigger], tenant: PlanningTenant, now: Date
    ) async throws -> ([TriggerReceipt], InAppAnnouncement?) {
        // Recipients: subscribers named by id and topics are looked up together; inline ones are upserted together.
        var ids: Set<String> = []
        var topicKeys: Set<String> = []
        for prepared in triggers {
            for recipient in prepared.trigger.recipients {
                switch recipient {
                case .subscriber(let id): ids.insert(id)
                case .topic(let key): topicKeys.insert(key)
                case .inline: break
                }
            }
        }
        var known: [String: Int64] = [:]
        if !ids.isEmpty {
            for row in try await connection.rows(
                "SELECT id, pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = ANY(\(Array(ids)))", logger)
            {
                known[try row[0]] = try row[1]
            }
        }
        // Inline recipients, upserted together before the triggers are read in order (each keeps its own key).
        let inline = triggers.flatMap { prepared in
            prepared.trigger.recipients.compactMap { recipient -> SubscriberInput? in
                if case .inline(let input) = recipient { return input }
                return nil
            }
        }
        for (id, upserted) in try await upsertSubscribers(connection, logger, tenantID: tenantID, inline, now: now) { known[id] = upserted.pk }
        var topicPKs: [String: Int64] = [:]
        if !topicKeys.isEmpty {
            for row in try await connection.rows(
                "SELECT key, pk FROM topics WHERE tenant_id = \(tenantID) AND key = ANY(\(Array(topicKeys)))", logger)
            {
                topicPKs[try row[0]] = try row[1]
            }
        }
        var resolved: [(direct: [Int64], topics: [(pk: Int64, key: String)])] = []
        var errors: [FieldError] = []
        for (index, prepared) in triggers.enumerated() {
            var direct: [Int64] = []
            var seen: Set<Int64> = []
            var topics: [(pk: Int64, key: String)] = []
            var triggerErrors: [FieldError] = []
            for (position, recipient) in prepared.trigger.recipients.enumerated() {
                switch recipient {
                case .subscriber(let id):
                    if let pk = known[id] {
                        if seen.insert(pk).inserted { direct.append(pk) }
                    } else {
                        triggerErrors.append(
                            FieldError("recipients[\(position)]", "no subscriber '\(id)' in this tenant; add it first or give it inline"))
                    }
                case .inline(let input):
                    // Upserted above, all of them (the statement returns every row it inserts or updates).
                    var upserted = known[input.id]
                    if upserted == nil { upserted = try await upsertSubscriber(connection, logger, tenantID: tenantID, input, now: now).0 }
                    if let pk = upserted, seen.insert(pk).inserted { direct.append(pk) }
                case .topic(let key):
                    if let pk = topicPKs[key] {
                        if !topics.contains(where: { $0.pk == pk }) { topics.append((pk, key)) }
                    } else {
                        triggerErrors.append(FieldError("recipients[\(position)].topic", "no topic '\(key)' in this tenant"))
                    }
                }
            }
            errors += triggers.count > 1 ? triggerErrors.prefixed("events[\(index)]") : triggerErrors
            resolved.append((direct, topics))
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
        guard !triggers.isEmpty else { return ([], nil) }

        // The events, in one statement.
        let nowMS = ms(now)
        var shared = PostgresBindings()
        shared.append(tenantID)
        shared.append(nowMS)
        var events = SQLValues(
            types: ["text", "text", "integer", "text", "text", "text", "text", "bigint", "bigint", "text"], after: shared)
        for (prepared, recipients) in zip(triggers, resolved) {
            let trigger = prepared.trigger
            let eventType = prepared.eventType
            events.append { row in
                row.bind(prepared.eventID)
                row.bind(eventType.key)
                row.bind(eventType.priority.rank)
                row.bind(recipients.topics.isEmpty ? Event.Status.planned.rawValue : Event.Status.fanningOut.rawValue)
                row.bind(JSONCoding.encodeText(trigger.payload))
                row.bind(JSONCoding.encodeText(eventType.plan))
                row.bind(trigger.actor)
                row.bind(trigger.sendAt.map(ms))
                row.bind(ms(prepared.expiresAt))
                row.bind(trigger.cancellationKey)
            }
        }
        var eventPKs: [String: Int64] = [:]
        for row in try await connection.rows(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO events(id, tenant_id, type, priority, status, payload, plan, actor, created_at, send_at, expires_at, cancellation_key)
                    SELECT v.id, $1, v.type, v.priority, v.status, v.payload, v.plan, v.actor, $2, v.send_at, v.expires_at, v.cancellation_key
                    FROM (VALUES \(events.sql)) AS v(id, type, priority, status, payload, plan, actor, send_at, expires_at, cancellation_key)
                    RETURNING id, pk
                    """, binds: events.bindings), logger)
        {
            eventPKs[try row[0]] = try row[1]
        }
        for prepared in triggers where !prepared.attachments.isEmpty {
            guard let eventPK = eventPKs[prepared.eventID] else { continue }
            for statement in attachmentInserts(eventPK: eventPK, prepared.attachments, dialect: .postgres) {
                _ = try await run(connection, logger, statement)
            }
        }

        // Every direct recipient with their rules for these event types, in two reads.
        let allDirect = Array(Set(resolved.flatMap(\.direct)))
        var subscribers: [Int64: Subscriber] = [:]
        var rules: [Int64: [PreferenceRule]] = [:]
        if !allDirect.isEmpty {
            for row in try await connection.rows(
                "SELECT s.pk, \(unescaped: subscriberColumns) FROM subscribers s WHERE s.pk = ANY(\(allDirect))", logger)
            {
                subscribers[try row[0]] = try subscriber(from: row, at: 1)
            }
            let types = Array(Set(triggers.map(\.eventType.key))) + ["*"]
            for row in try await connection.rows(
                """
                SELECT subscriber_pk, event_type, channel, enabled, unsubscribed, digest FROM preferences
                WHERE subscriber_pk = ANY(\(allDirect)) AND event_type = ANY(\(types))
                """, logger)
            {
                rules[try row[0], default: []].append(
                    PreferenceRule(
                        eventType: try row[1], channel: try row[2], enabled: try row[3], unsubscribed: try row[4],
                        digest: decodeJSON(DigestSpec.self, try row[5])))
            }
        }

        // Plans, then messages: those without flow control all in one batch.
        var receipts: [TriggerReceipt] = []
        var announcement: InAppAnnouncement?
        var planning: [PlanningEvent] = []
        var planned: [(receipt: Int, event: Int)] = []
        var fanouts: [(eventPK: Int64, topicPK: Int64)] = []
        let resolver = PreferenceResolver(tenantRules: tenant.rules)
        for (prepared, recipients) in zip(triggers, resolved) {
            let trigger = prepared.trigger
            let plan = prepared.eventType.plan
            guard let eventPK = eventPKs[prepared.eventID] else { continue }
            if !recipients.direct.isEmpty {
                let records = recipients.direct.compactMap { pk -> RecipientRecord? in
                    guard let subscriber = subscribers[pk] else { return nil }
                    let own = rules[pk, default: []].filter { $0.eventType == plan.key || $0.eventType == "*" }
                    return RecipientRecord(rowID: pk, subscriber: subscriber, rules: own)
                }
                let planner = MessagePlanner(
                    eventType: plan, preferences: resolver, email: tenant.email, tenantDestinations: tenant.destinations, dueAt: trigger.sendAt ?? now,
                    digestKey: plan.digest?.digestKey(payload: trigger.payload)
                ).composing(prepared.inApp, event: prepared.context(tenantID: tenantID, tenantName: tenant.name, createdAt: now), now: now)
                planned.append((receipts.count, planning.count))
                planning.append(
                    PlanningEvent(
                        tenantID: tenantID, eventPK: eventPK, plan: plan, payload: trigger.payload, dueAt: trigger.sendAt ?? now,
                        expiresAt: prepared.expiresAt, messages: planner.plan(records), workflowRuns: records, inApp: planner.inApp))
            }
            fanouts += recipients.topics.map { (eventPK, $0.pk) }
            receipts.append(
                TriggerReceipt(
                    eventId: prepared.eventID, status: recipients.topics.isEmpty ? .planned : .fanningOut, messages: [:],
                    topics: recipients.topics.map(\.key)))
        }
        if !planning.isEmpty {
            let written = try await writeMessages(connection, logger, planning, now: now)
            for (receipt, event) in planned { receipts[receipt].record(written, event: event) }
            announcement = InAppAnnouncement(written, partitioned: true)
        }
        if !fanouts.isEmpty {
            try await connection.run(
                """
                INSERT INTO fanout_jobs(tenant_id, event_pk, topic_pk, status, available_at)
                SELECT \(tenantID), f.event_pk, f.topic_pk, 'pending', \(nowMS)
                FROM unnest(\(fanouts.map(\.eventPK)), \(fanouts.map(\.topicPK))) WITH ORDINALITY AS f(event_pk, topic_pk, position)
                ORDER BY f.position
                """, logger)
        }
        return (receipts, announcement)
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
                """
                SELECT \(unescaped: Self.eventColumns) FROM events
                WHERE tenant_id = \(tenantID) AND id = \(id) AND expires_at > \(Self.ms(Date()))
                """, logger
            ).first.map { try Self.event(from: $0) }
        }
    }

    public func events(tenantID: String, type: String?, cursor: Int64?, limit: Int) async throws -> Page<Event> {
        try await read { connection in
            let rows = try await connection.rows(
                """
                SELECT pk, \(unescaped: Self.eventColumns) FROM events
                WHERE tenant_id = \(tenantID) AND pk < \(cursor ?? Int64.max) AND (\(type)::text IS NULL OR type = \(type))
                AND expires_at > \(Self.ms(Date()))
                ORDER BY pk DESC LIMIT \(limit + 1)
                """, logger)
            let items = try rows.prefix(limit).map { try Self.event(from: $0, at: 1) }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
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
                RETURNING j.id, j.tenant_id, e.id, j.topic_pk, j.cursor, e.type, e.priority
                """, logger
            ).first.map { row in
                FanoutJob(
                    id: try row[0], tenantID: try row[1], eventID: try row[2], topicRowID: try row[3], cursor: try row[4], eventType: try row[5],
                    priority: Priority(rank: try row[6]) ?? .medium)
            }
        }
    }

    /// Read outside a transaction, beside the writes of the chunk before.
    public func planFanoutChunk(_ job: FanoutJob, limit: Int, now: Date, inApp: InAppComposer?) async throws -> PlannedFanoutChunk? {
        try await read { connection -> PlannedFanoutChunk? in
            guard
                let jobRow = try await connection.rows(
                    """
                    SELECT e.pk, e.plan, e.send_at, e.expires_at, e.payload, e.id, e.type, e.created_at
                    FROM fanout_jobs j JOIN events e ON e.pk = j.event_pk
                    WHERE j.id = \(job.id) AND j.status = 'pending'
                    """, logger
                ).first,
                let plan = Self.decodeJSON(EventType.self, try jobRow[1])
            else { return nil }
            // The chunk's members first, then each one's row by its key (`OFFSET 0` keeps the lookup per member).
            // Joined whole, the planner may pick a hash join that reads every subscriber of the database for each
            // chunk: measured here, it made a fan-out to 100,000 members take 7 s of database time instead of 0.9.
            let members = try await connection.rows(
                """
                SELECT m.subscriber_pk, \(unescaped: Self.subscriberColumns) FROM (
                    SELECT subscriber_pk FROM topic_members WHERE topic_pk = \(job.topicRowID) AND subscriber_pk > \(job.cursor)
                    ORDER BY subscriber_pk LIMIT \(limit)
                ) m CROSS JOIN LATERAL (SELECT * FROM subscribers WHERE pk = m.subscriber_pk OFFSET 0) s
                ORDER BY m.subscriber_pk
                """, logger)
            let tenant = try await Self.planningTenant(connection, logger, tenantID: job.tenantID)
            return PlannedFanoutChunk(
                job: job,
                source: PlannedFanoutChunk.Source(
                    eventPK: try jobRow[0], plan: plan, sendAt: Self.date(try jobRow[2]), expiresAt: Self.date(try jobRow[3])!,
                    payload: Self.decodeJSON([String: JSONValue].self, try jobRow[4]) ?? [:], eventID: try jobRow[5], eventType: try jobRow[6],
                    createdAt: Self.date(try jobRow[7])),
                records: try await Self.recipients(connection, logger, rows: members, subscriberOffset: 1, eventType: plan.key),
                endsTopic: members.count < limit,
                preferences: PreferenceResolver(tenantRules: tenant.rules), email: tenant.email, destinations: tenant.destinations,
                tenantName: tenant.name, inApp: inApp,
                partSize: limit, now: now)
        }
    }

    /// PostgreSQL's writers run side by side: a chunk is written whole, as its one part.
    public func writeFanoutChunk(_ chunk: PlannedFanoutChunk, owner: String, now: Date, leaseUntil: Date) async throws -> (FanoutJob, FanoutProgress) {
        let (job, progress, announcement) = try await write { connection -> (FanoutJob, FanoutProgress, InAppAnnouncement?) in
            var job = chunk.job
            guard
                let current: Int64 = try await connection.rows(
                    "SELECT cursor FROM fanout_jobs WHERE id = \(job.id) AND status = 'pending' AND lease_owner = \(owner) FOR UPDATE", logger
                ).first.map({ try $0[0] })
            else {
                // Cancelled, finished or taken over by another worker: nothing more for this one to do.
                return (job, FanoutProgress(planned: 0, finished: true), nil)
            }
            // Shared with other chunks, exclusive to a subscriber's deletion (`deleteSubscriber`): a member deleted
            // after this check would otherwise be written messages that outlive them.
            try await connection.run("SELECT pg_advisory_xact_lock_shared(hashtext(\(Self.membersLockKey(tenantID: job.tenantID))))", logger)
            let members: [Int64] = try await connection.rows(
                """
                SELECT subscriber_pk FROM topic_members
                WHERE topic_pk = \(job.topicRowID) AND subscriber_pk > \(chunk.job.cursor) AND subscriber_pk <= \(chunk.endCursor)
                ORDER BY subscriber_pk
                """, logger
            ).map { try $0[0] }
            guard current == chunk.job.cursor, chunk.isPlanned(for: members) else {
                job.cursor = current
                return (job, FanoutProgress(planned: 0, finished: false, moved: true), nil)
            }
            let written = try await Self.writeMessages(connection, logger, chunk.parts.map(\.event), now: now)
            let (cursor, planned, finished) = chunk.progress(afterWriting: chunk.parts.count)
            job.cursor = cursor
            try await connection.run(
                """
                UPDATE fanout_jobs SET cursor = \(job.cursor), status = \(finished ? "done" : "pending"), available_at = \(Self.ms(leaseUntil))
                WHERE id = \(job.id)
                """, logger)
            if finished {
                try await connection.run(
                    """
                    UPDATE events SET status = 'planned' WHERE pk = \(chunk.eventPK) AND status = 'fanning_out'
                    AND NOT EXISTS (SELECT 1 FROM fanout_jobs WHERE event_pk = \(chunk.eventPK) AND status = 'pending')
                    """, logger)
            }
            return (job, FanoutProgress(planned: planned, finished: finished), InAppAnnouncement(written, partitioned: true))
        }
        await announcement?.send()
        return (job, progress)
    }
}
