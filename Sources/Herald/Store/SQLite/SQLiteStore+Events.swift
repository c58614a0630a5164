import Foundation
import GRDB

extension SQLiteStore {
    public func accept(tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?, now: Date) async throws
        -> AcceptOutcome
    {
        let (outcome, announcement) = try await write(urgent: triggers.areUrgent) { db in
            try Self.accept(db, tenantID: tenantID, triggers: triggers, idempotency: idempotency, now: now)
        }
        await announcement?.send()
        return outcome
    }

    /// Several requests in one write transaction (group commit), each inside its own savepoint: one
    /// request's refusal rolls back only what it wrote, and answers only that request.
    public func acceptMany(_ requests: [AcceptRequest], now: Date) async throws -> [Result<AcceptOutcome, any Error>] {
        let (outcomes, announcements) = try await write(urgent: requests.contains(where: \.isUrgent)) { db in
            var announcements: [InAppAnnouncement] = []
            let outcomes = requests.map { request in
                var outcome: Result<AcceptOutcome, any Error> = .failure(HeraldError.conflict("not accepted"))
                do {
                    try db.inSavepoint {
                        do {
                            let (accepted, announcement) = try Self.accept(
                                db, tenantID: request.tenantID, triggers: request.triggers, idempotency: request.idempotency, now: now)
                            outcome = .success(accepted)
                            if let announcement { announcements.append(announcement) }
                            return .commit
                        } catch {
                            outcome = .failure(error)
                            return .rollback
                        }
                    }
                } catch {
                    outcome = .failure(error)
                }
                return outcome
            }
            return (outcomes, announcements)
        }
        await InAppAnnouncement(merging: announcements)?.send()
        return outcomes
    }

    /// One request's triggers (and its idempotency record), inside the caller's transaction.
    static func accept(_ db: Database, tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?, now: Date) throws
        -> (AcceptOutcome, InAppAnnouncement?)
    {
        if let claim = idempotency,
            let stored = try Row.fetchOne(
                db, sql: "SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = ? AND key = ?",
                arguments: [tenantID, claim.key])
        {
            guard stored[0] as String == claim.requestHash else {
                throw HeraldError.conflict(
                    "Idempotency-Key '\(claim.key)' was already used with a different request body; use a new key for a new request")
            }
            return (.replayed(Self.decodeJSON([TriggerReceipt].self, stored[1]) ?? []), nil)
        }
        let resolver = PreferenceResolver(tenantRules: try Self.tenantPreferences(db, tenantID: tenantID))
        let email = try Self.emailSettings(db, tenantID: tenantID)
        let destinations = try Self.tenantDestinations(db, tenantID: tenantID)
        let tenantName = triggers.contains { $0.inApp != nil } ? try Self.tenantName(db, tenantID: tenantID) : ""
        var announcement: InAppAnnouncement?
        var receipts: [TriggerReceipt] = []
        var events: [PlanningEvent] = []
        var planned: [(receipt: Int, event: Int)] = []
        var errors: [FieldError] = []
        for (index, prepared) in triggers.enumerated() {
            do {
                let (receipt, event) = try Self.accept(
                    db, tenantID: tenantID, tenantName: tenantName, prepared, resolver: resolver, email: email, destinations: destinations, now: now)
                if let event {
                    planned.append((receipts.count, events.count))
                    events.append(event)
                }
                receipts.append(receipt)
            } catch HeraldError.invalid(let fieldErrors) {
                errors += triggers.count > 1 ? fieldErrors.prefixed("events[\(index)]") : fieldErrors
            }
        }
        if errors.isEmpty, !events.isEmpty {
            let written = try writeMessages(db, events, now: now)
            for (receipt, event) in planned { receipts[receipt].record(written, event: event) }
            announcement = InAppAnnouncement(written, partitioned: false)
        }
        // Throwing rolls back everything this request wrote, inline subscribers included.
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
        if let claim = idempotency {
            try db.execute(
                sql: "INSERT INTO idempotency_keys(tenant_id, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [tenantID, claim.key, claim.requestHash, JSONCoding.encodeText(receipts), Self.ms(now)])
        }
        return (.accepted(receipts), announcement)
    }

    static func tenantName(_ db: Database, tenantID: String) throws -> String {
        try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM tenants WHERE id = ?"), arguments: [tenantID]) ?? ""
    }

    /// Writes one event and plans its direct recipients' messages, written with the request's others. Its
    /// statements are cached: a bulk request runs them a thousand times in one transaction.
    private static func accept(
        _ db: Database, tenantID: String, tenantName: String, _ prepared: PreparedTrigger, resolver: PreferenceResolver, email: EmailSettings,
        destinations: Set<ChannelKind>, now: Date
    ) throws -> (TriggerReceipt, PlanningEvent?) {
        let trigger = prepared.trigger
        var direct: [Int64] = []
        var seen: Set<Int64> = []
        var topics: [(pk: Int64, key: String)] = []
        var errors: [FieldError] = []
        for (position, recipient) in trigger.recipients.enumerated() {
            switch recipient {
            case .subscriber(let id):
                if let pk = try tenantSubscriberPK(db, tenantID: tenantID, id: id) {
                    if seen.insert(pk).inserted { direct.append(pk) }
                } else {
                    errors.append(FieldError("recipients[\(position)]", "no subscriber '\(id)' in this tenant; add it first or give it inline"))
                }
            case .inline(let input):
                let (pk, _) = try upsertSubscriber(db, tenantID: tenantID, input, now: now)
                if seen.insert(pk).inserted { direct.append(pk) }
            case .topic(let key):
                if let pk = try topicPK(db, tenantID: tenantID, key: key) {
                    if !topics.contains(where: { $0.pk == pk }) { topics.append((pk, key)) }
                } else {
                    errors.append(FieldError("recipients[\(position)].topic", "no topic '\(key)' in this tenant"))
                }
            }
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }

        let eventType = prepared.eventType
        let plan = eventType.plan
        try db.cachedStatement(
            sql: """
                INSERT INTO events(id, tenant_id, type, priority, status, payload, plan, actor, created_at, send_at, expires_at, cancellation_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                prepared.eventID, tenantID, eventType.key, eventType.priority.rank,
                topics.isEmpty ? Event.Status.planned.rawValue : Event.Status.fanningOut.rawValue,
                JSONCoding.encodeText(trigger.payload), JSONCoding.encodeText(plan), trigger.actor, ms(now), trigger.sendAt.map(ms),
                ms(prepared.expiresAt), trigger.cancellationKey,
            ])
        let eventPK = db.lastInsertedRowID
        for statement in attachmentInserts(eventPK: eventPK, prepared.attachments, dialect: .sqlite) { _ = try run(db, statement) }

        var event: PlanningEvent?
        if !direct.isEmpty {
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT s.pk, \(subscriberColumns) FROM subscribers s WHERE s.pk IN (\(placeholders(direct.count)))"),
                arguments: StatementArguments(direct))
            let records = try recipients(db, rows: rows, subscriberOffset: 1, eventType: eventType.key).inRequestOrder(direct)
            let planner = MessagePlanner(
                eventType: plan, preferences: resolver, email: email, tenantDestinations: destinations, dueAt: trigger.sendAt ?? now,
                digestKey: plan.digest?.digestKey(payload: trigger.payload)
            ).composing(prepared.inApp, event: prepared.context(tenantID: tenantID, tenantName: tenantName, createdAt: now), now: now)
            event = PlanningEvent(
                tenantID: tenantID, eventPK: eventPK, plan: plan, payload: trigger.payload, dueAt: trigger.sendAt ?? now,
                expiresAt: prepared.expiresAt, messages: planner.plan(records), workflowRuns: records, inApp: planner.inApp)
        }
        for topic in topics {
            try db.execute(
                sql: "INSERT INTO fanout_jobs(tenant_id, event_pk, topic_pk, status, available_at) VALUES (?, ?, ?, 'pending', ?)",
                arguments: [tenantID, eventPK, topic.pk, ms(now)])
        }
        let receipt = TriggerReceipt(
            eventId: prepared.eventID, status: topics.isEmpty ? .planned : .fanningOut, messages: [:], topics: topics.map(\.key))
        return (receipt, event)
    }

    private static let eventColumns = "id, type, priority, status, payload, actor, created_at, send_at, expires_at, cancellation_key"

    private static func event(from row: Row, at offset: Int = 0) -> Event {
        var event = Event(
            id: row[offset], type: row[offset + 1], priority: Priority(rank: row[offset + 2]) ?? .medium,
            status: Event.Status(rawValue: row[offset + 3]) ?? .planned, payload: decodeJSON([String: JSONValue].self, row[offset + 4]) ?? [:],
            actor: row[offset + 5], createdAt: date(row[offset + 6])!, sendAt: date(row[offset + 7]), expiresAt: date(row[offset + 8])!)
        event.cancellationKey = row[offset + 9]
        return event
    }

    public func event(tenantID: String, id: String) async throws -> Event? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.eventColumns) FROM events WHERE tenant_id = ? AND id = ?", arguments: [tenantID, id])
                .map { Self.event(from: $0) }
        }
    }

    public func events(tenantID: String, type: String?, cursor: Int64?, limit: Int) async throws -> Page<Event> {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT pk, \(Self.eventColumns) FROM events
                    WHERE tenant_id = ? AND pk < ? AND (? IS NULL OR type = ?) ORDER BY pk DESC LIMIT ?
                    """, arguments: [tenantID, cursor ?? Int64.max, type, type, limit + 1])
            let items = rows.prefix(limit).map { Self.event(from: $0, at: 1) }
            return Page(items: Array(items), nextCursor: rows.count > limit ? Cursor.encode(rows[limit - 1][0]) : nil)
        }
    }

    // MARK: Fan-out

    public func claimFanoutJob(owner: String, now: Date, leaseUntil: Date) async throws -> FanoutJob? {
        try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT j.id, j.tenant_id, e.id, j.topic_pk, j.cursor, e.type, e.priority FROM fanout_jobs j JOIN events e ON e.pk = j.event_pk
                            WHERE j.status = 'pending' AND j.available_at <= ? ORDER BY e.priority, j.id LIMIT 1
                            """), arguments: [Self.ms(now)])
            else { return nil }
            let job = FanoutJob(
                id: row[0], tenantID: row[1], eventID: row[2], topicRowID: row[3], cursor: row[4], eventType: row[5],
                priority: Priority(rank: row[6]) ?? .medium)
            try db.execute(
                sql: "UPDATE fanout_jobs SET lease_owner = ?, available_at = ? WHERE id = ?", arguments: [owner, Self.ms(leaseUntil), job.id])
            return job
        }
    }

    /// Members planned and written between two looks at ``UrgentWrites`` in a fan-out chunk: about 5 ms of
    /// planning for in-app members on this project's two-core machine, against 55 ms for a chunk of 1,000.
    static let fanoutPart = 100

    /// Read on a reader, beside the writer: in WAL mode it sees the last commit and holds no lock the writer waits for.
    public func planFanoutChunk(_ job: FanoutJob, limit: Int, now: Date, inApp: InAppComposer?) async throws -> PlannedFanoutChunk? {
        try await pool.read { db -> PlannedFanoutChunk? in
            guard
                let jobRow = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT e.pk, e.plan, e.send_at, e.expires_at, e.payload, e.id, e.type, e.created_at
                        FROM fanout_jobs j JOIN events e ON e.pk = j.event_pk
                        WHERE j.id = ? AND j.status = 'pending'
                        """, arguments: [job.id]),
                let plan = Self.decodeJSON(EventType.self, jobRow[1])
            else { return nil }
            let members = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.subscriber_pk, \(Self.subscriberColumns) FROM topic_members m JOIN subscribers s ON s.pk = m.subscriber_pk
                    WHERE m.topic_pk = ? AND m.subscriber_pk > ? ORDER BY m.subscriber_pk LIMIT ?
                    """, arguments: [job.topicRowID, job.cursor, limit])
            return PlannedFanoutChunk(
                job: job,
                source: PlannedFanoutChunk.Source(
                    eventPK: jobRow[0], plan: plan, sendAt: Self.date(jobRow[2]), expiresAt: Self.date(jobRow[3])!,
                    payload: Self.decodeJSON([String: JSONValue].self, jobRow[4]) ?? [:], eventID: jobRow[5], eventType: jobRow[6],
                    createdAt: Self.date(jobRow[7])),
                records: try Self.recipients(db, rows: members, subscriberOffset: 1, eventType: plan.key), endsTopic: members.count < limit,
                preferences: PreferenceResolver(tenantRules: try Self.tenantPreferences(db, tenantID: job.tenantID)),
                email: try Self.emailSettings(db, tenantID: job.tenantID), destinations: try Self.tenantDestinations(db, tenantID: job.tenantID),
                tenantName: inApp == nil ? "" : try Self.tenantName(db, tenantID: job.tenantID), inApp: inApp, partSize: Self.fanoutPart, now: now)
        }
    }

    /// Written in parts, so that a critical write waiting for the writer waits for one part (a few milliseconds),
    /// not the whole chunk: the chunk stops after the part in hand and commits; the rest is planned again.
    public func writeFanoutChunk(_ chunk: PlannedFanoutChunk, owner: String, now: Date, leaseUntil: Date) async throws -> (FanoutJob, FanoutProgress) {
        let (job, progress, announcement) = try await pool.write { db -> (FanoutJob, FanoutProgress, InAppAnnouncement?) in
            var job = chunk.job
            guard
                let current = try Int64.fetchOne(
                    db, sql: "SELECT cursor FROM fanout_jobs WHERE id = ? AND status = 'pending' AND lease_owner = ?", arguments: [job.id, owner])
            else {
                // Cancelled, finished or taken over by another worker: nothing more for this one to do.
                return (job, FanoutProgress(planned: 0, finished: true), nil)
            }
            let members = try Int64.fetchAll(
                db,
                sql: """
                    SELECT subscriber_pk FROM topic_members WHERE topic_pk = ? AND subscriber_pk > ? AND subscriber_pk <= ?
                    ORDER BY subscriber_pk
                    """,
                arguments: [job.topicRowID, chunk.job.cursor, chunk.endCursor])
            guard current == chunk.job.cursor, chunk.isPlanned(for: members) else {
                job.cursor = current
                return (job, FanoutProgress(planned: 0, finished: false, moved: true), nil)
            }
            var written = 0
            var announcements: [InAppAnnouncement] = []
            while written < chunk.parts.count && (written == 0 || !urgency.arePending) {
                let steps = try Self.writeMessages(db, [chunk.parts[written].event], now: now)
                if let announcement = InAppAnnouncement(steps, partitioned: false) { announcements.append(announcement) }
                written += 1
            }
            let (cursor, planned, finished) = chunk.progress(afterWriting: written)
            job.cursor = cursor
            try Self.advance(db, job: job, finished: finished, eventPK: chunk.eventPK, leaseUntil: leaseUntil)
            return (job, FanoutProgress(planned: planned, finished: finished), InAppAnnouncement(merging: announcements))
        }
        await announcement?.send()
        return (job, progress)
    }

    private static func advance(_ db: Database, job: FanoutJob, finished: Bool, eventPK: Int64, leaseUntil: Date) throws {
        try db.execute(
            sql: "UPDATE fanout_jobs SET cursor = ?, status = ?, available_at = ? WHERE id = ?",
            arguments: [job.cursor, finished ? "done" : "pending", Self.ms(leaseUntil), job.id])
        if finished {
            try db.execute(
                sql: """
                    UPDATE events SET status = 'planned' WHERE pk = ? AND status = 'fanning_out'
                    AND NOT EXISTS (SELECT 1 FROM fanout_jobs WHERE event_pk = ? AND status = 'pending')
                    """, arguments: [eventPK, eventPK])
        }
    }
}
