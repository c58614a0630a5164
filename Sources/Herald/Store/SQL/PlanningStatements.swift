import Foundation

/// The statements that read the flow state a batch needs and write what ``FlowPlanner`` decided, written
/// once for both stores in the shared SQL of ``SQLDialect``. Each list is cut into statements of at most
/// the dialect's ``SQLDialect/maxValues`` values: on PostgreSQL a batch costs a few statements whatever its size.
struct PlanningStatements {
    let dialect: SQLDialect

    // MARK: Reading the state

    /// A part of ``FlowState`` a read fills.
    enum Part {
        case dedup, digests, buckets
    }

    /// The reads of `needs`: feed each statement's rows to ``FlowState/read(_:rows:)``.
    func reads(_ needs: FlowState.Needs, now: Date) -> [(part: Part, statement: SQLStatement)] {
        var reads: [(Part, SQLStatement)] = []
        // Joined from the list of keys, so both databases look each one up by its index, whatever their statistics.
        reads += chunks(of: needs.dedup, columns: 4) { slots, after in
            SQLStatement(
                sql: """
                    SELECT d.subscriber_pk, d.event_type, d.channel, d.fingerprint, d.message_id
                    FROM (VALUES \(dialect.valuesList(rows: slots.count, types: [.integer, .text, .text, .text], after: after))) AS k
                    JOIN dedup_keys AS d ON d.subscriber_pk = k.column1 AND d.event_type = k.column2 AND d.channel = k.column3
                        AND d.fingerprint = k.column4
                    WHERE d.expires_at > \(dialect.placeholder(after + slots.count * 4 + 1, .integer))
                    """,
                values: slots.flatMap { [SQLValue($0.subscriberRowID), SQLValue($0.eventType), SQLValue($0.channel.rawValue), SQLValue($0.fingerprint)] }
                    + [SQLValue(now)])
        }.map { (.dedup, $0) }
        reads += chunks(of: needs.digests, columns: 4) { slots, after in
            SQLStatement(
                sql: """
                    SELECT d.subscriber_pk, d.event_type, d.channel, d.digest_key, d.id, d.message_id, d.flush_at
                    FROM (VALUES \(dialect.valuesList(rows: slots.count, types: [.integer, .text, .text, .text], after: after))) AS k
                    JOIN digests AS d ON d.subscriber_pk = k.column1 AND d.event_type = k.column2 AND d.channel = k.column3
                        AND d.digest_key = k.column4
                    WHERE d.status = 'open'
                    """,
                values: slots.flatMap { [SQLValue($0.subscriberRowID), SQLValue($0.eventType), SQLValue($0.channel.rawValue), SQLValue($0.key)] })
        }.map { (.digests, $0) }
        reads += chunks(of: needs.buckets, columns: 1) { keys, after in
            SQLStatement(
                sql: "SELECT key, tokens, updated_at FROM rate_buckets WHERE key IN (VALUES \(dialect.valuesList(rows: keys.count, types: [.text], after: after)))",
                values: keys.map { SQLValue($0) })
        }.map { (.buckets, $0) }
        return reads
    }

    // MARK: Writing the decisions

    /// The ids the batch's rows point at each other by, when they do: `messages` and `digests` ids to
    /// reserve before writing.
    func reservations(_ writes: MessageWrites) -> (messages: SQLStatement?, digests: SQLStatement?) {
        guard writes.referencesWithin else { return (nil, nil) }
        return (
            dialect.reserveIDs(table: "messages", count: writes.messages.count),
            writes.digests.isEmpty ? nil : dialect.reserveIDs(table: "digests", count: writes.digests.count)
        )
    }

    /// Inserts of the batch's messages; with `ids`, each row takes its reserved id. With `ids`, or when
    /// an in-app message is written as delivered, the statements return the rows that went in (id, event,
    /// subscriber, status); a message already there for its event, subscriber and channel stays.
    func insertMessages(_ writes: MessageWrites, of events: [PlanningEvent], ids: Ids?, now: Date) -> [SQLStatement] {
        let types: [SQLType] =
            (ids == nil ? [] : [.integer])
            + [
                .text, .integer, .integer, .text, .integer, .text, .text, .integer, .integer, .integer, .integer, .integer, .integer, .integer,
                .text, .text, .text, .integer, .integer,
            ]
        // The rows that went in, where something must know them: rows that point at each other, and
        // in-app messages delivered as they are written (announced after the commit).
        let returning = ids == nil && !writes.delivers ? "" : " RETURNING id, event_pk, subscriber_pk, status"
        let rows = Array(writes.messages.enumerated())
        return chunks(of: rows, columns: types.count) { rows, after in
            var table: [[SQLValue]] = []
            table.reserveCapacity(rows.count)
            for (position, row) in rows {
                let event = events[row.event]
                var values: [SQLValue] = []
                values.reserveCapacity(types.count)
                if let ids { values.append(SQLValue(ids.messages[position])) }
                values += [
                    SQLValue(event.tenantID), SQLValue(event.eventPK), SQLValue(row.subscriberRowID), SQLValue(row.channel.rawValue),
                    SQLValue(event.plan.priority.rank), SQLValue(row.status.rawValue), SQLValue(row.reason), SQLValue(row.availableAt),
                    SQLValue(now), SQLValue(now), SQLValue(event.expiresAt), SQLValue(Ids.resolve(row.digest, in: ids?.digests)),
                    SQLValue(Ids.resolve(row.related, in: ids?.messages)), SQLValue(event.step), SQLValue(row.inbox?.content.title),
                    SQLValue(row.inbox?.content.body), SQLValue(row.inbox?.content.actionURL), SQLValue(row.inbox == nil ? nil : Optional(now)),
                    SQLValue(row.inbox == nil ? 0 : 1),
                ]
                table.append(values)
            }
            let source = dialect.rowSource(table, types: types, after: after)
            return SQLStatement(
                sql: """
                    INSERT INTO messages(\(ids == nil ? "" : "id, ")tenant_id, event_pk, subscriber_pk, channel, priority, status, reason,
                                         available_at, created_at, updated_at, expires_at, digest_id, related_id, step,
                                         title, body, action_url, sent_at, attempts)
                    \(source.sql)
                    ON CONFLICT (event_pk, subscriber_pk, channel, step) DO NOTHING\(returning)
                    """, values: source.values)
        }
    }

    /// The workflow runs the batch's events start, one per recipient, each due when its event is; the
    /// rows return their event, so the receipt can say how many started.
    func insertRuns(_ events: [PlanningEvent], now: Date) -> [SQLStatement] {
        let rows = events.flatMap { event in event.workflowRuns.map { (event, $0) } }
        return chunks(of: rows, columns: 8) { rows, after in
            SQLStatement(
                sql: """
                    INSERT INTO workflow_runs(tenant_id, event_pk, subscriber_pk, priority, status, available_at, created_at, updated_at, expires_at)
                    SELECT column1, column2, column3, column4, '\(WorkflowRunStatus.active.rawValue)', column5, column6, column7, column8
                    FROM (VALUES \(dialect.valuesList(rows: rows.count, types: [.text, .integer, .integer, .integer, .integer, .integer, .integer, .integer], after: after))) AS v
                    WHERE true ON CONFLICT (event_pk, subscriber_pk) DO NOTHING RETURNING event_pk
                    """,
                values: rows.flatMap { event, subscriber in
                    [
                        SQLValue(event.tenantID), SQLValue(event.eventPK), SQLValue(subscriber), SQLValue(event.plan.priority.rank), SQLValue(event.dueAt),
                        SQLValue(now), SQLValue(now), SQLValue(event.expiresAt),
                    ]
                })
        }
    }

    /// The flow state the batch leaves, for the messages that went in: the digests it opens, its dedup
    /// keys (both only where ids were reserved, as they point at messages), and the buckets it spent from.
    func writeState(_ writes: MessageWrites, ids: Ids?, inserted: Set<Int64>) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        guard let ids else { return bucketWrites(writes) }
        let digests = writes.digests.enumerated().filter { inserted.contains(ids.messages[$0.element.message]) }
        statements += chunks(of: digests, columns: 8) { digests, after in
            SQLStatement(
                sql: """
                    INSERT INTO digests(id, tenant_id, subscriber_pk, event_type, channel, digest_key, status, message_id, flush_at, created_at)
                    SELECT column1, column2, column3, column4, column5, column6, 'open', column7, column8, column8 FROM (VALUES \(dialect.valuesList(rows: digests.count, types: [.integer, .text, .integer, .text, .text, .text, .integer, .integer], after: after))) AS v
                    """,
                values: digests.flatMap { index, digest in
                    [
                        SQLValue(ids.digests[index]), SQLValue(digest.tenantID), SQLValue(digest.slot.subscriberRowID), SQLValue(digest.slot.eventType),
                        SQLValue(digest.slot.channel.rawValue), SQLValue(digest.slot.key), SQLValue(ids.messages[digest.message]),
                        SQLValue(digest.flushAt),
                    ]
                })
        }
        let keys = writes.dedupKeys.filter { inserted.contains(ids.messages[$0.message]) }
        statements += chunks(of: keys, columns: 6) { keys, after in
            SQLStatement(
                sql: """
                    INSERT INTO dedup_keys(subscriber_pk, event_type, channel, fingerprint, message_id, expires_at)
                    VALUES \(dialect.valuesList(rows: keys.count, types: [.integer, .text, .text, .text, .integer, .integer], after: after))
                    ON CONFLICT (subscriber_pk, event_type, channel, fingerprint) DO UPDATE
                    SET message_id = excluded.message_id, expires_at = excluded.expires_at
                    """,
                values: keys.flatMap { key in
                    [
                        SQLValue(key.slot.subscriberRowID), SQLValue(key.slot.eventType), SQLValue(key.slot.channel.rawValue),
                        SQLValue(key.slot.fingerprint), SQLValue(ids.messages[key.message]), SQLValue(key.expiresAt),
                    ]
                })
        }
        return statements + bucketWrites(writes)
    }

    private func bucketWrites(_ writes: MessageWrites) -> [SQLStatement] {
        chunks(of: writes.buckets, columns: 3) { buckets, after in
            SQLStatement(
                sql: """
                    INSERT INTO rate_buckets(key, tokens, updated_at)
                    VALUES \(dialect.valuesList(rows: buckets.count, types: [.text, .real, .integer], after: after))
                    ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at
                    """,
                values: buckets.flatMap { [SQLValue($0.key), SQLValue($0.bucket.tokens), SQLValue($0.bucket.updatedAt)] })
        }
    }

    /// The ids reserved for a batch's new messages and digests, by position.
    struct Ids {
        var messages: [Int64]
        var digests: [Int64]

        /// The id `reference` stands for: its own, or the one reserved for its position in `reserved`.
        static func resolve(_ reference: RowReference?, in reserved: [Int64]?) -> Int64? {
            switch reference {
            case .stored(let id): id
            case .planned(let position): reserved?[position]
            case nil: nil
            }
        }
    }

    /// `items` cut into statements of at most the dialect's ``SQLDialect/maxValues`` values.
    private func chunks<Item>(of items: [Item], columns: Int, _ build: (ArraySlice<Item>, Int) -> SQLStatement) -> [SQLStatement] {
        guard !items.isEmpty else { return [] }
        let perStatement = dialect.rowsPerStatement(columns: columns)
        return stride(from: 0, to: items.count, by: perStatement).map { start in
            build(items[start..<min(start + perStatement, items.count)], 0)
        }
    }
}

extension FlowState {
    /// Takes in the rows of one of ``PlanningStatements/reads(_:now:)``.
    mutating func read(_ part: PlanningStatements.Part, rows: [[SQLValue]]) {
        for row in rows {
            switch part {
            case .dedup:
                guard let subscriber = row[0].integer, let type = row[1].text, let channel = row[2].text.flatMap(ChannelKind.init(rawValue:)),
                    let fingerprint = row[3].text, let message = row[4].integer
                else { continue }
                dedup[DedupSlot(subscriberRowID: subscriber, eventType: type, channel: channel, fingerprint: fingerprint)] = .stored(message)
            case .digests:
                guard let subscriber = row[0].integer, let type = row[1].text, let channel = row[2].text.flatMap(ChannelKind.init(rawValue:)),
                    let key = row[3].text, let id = row[4].integer, let flushAt = row[6].date
                else { continue }
                digests[DigestSlot(subscriberRowID: subscriber, eventType: type, channel: channel, key: key)] = OpenDigest(
                    digest: .stored(id), message: row[5].integer.map { .stored($0) }, flushAt: flushAt)
            case .buckets:
                guard let key = row[0].text, let tokens = row[1].real, let updatedAt = row[2].date else { continue }
                buckets[key] = StoredBucket(tokens: tokens, updatedAt: updatedAt)
            }
        }
    }
}
