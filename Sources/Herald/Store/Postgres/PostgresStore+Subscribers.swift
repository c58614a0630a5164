import Foundation
import PostgresNIO

extension PostgresStore {
    public func upsertSubscriber(tenantID: String, _ input: SubscriberInput) async throws -> (Subscriber, created: Bool) {
        try await write { connection in
            let (pk, created) = try await Self.upsertSubscriber(connection, logger, tenantID: tenantID, input, now: Date())
            let row = try await connection.rows("SELECT \(unescaped: Self.subscriberColumns) FROM subscribers s WHERE pk = \(pk)", logger)[0]
            return (try Self.subscriber(from: row, at: 0), created)
        }
    }

    /// Inserts or updates a subscriber in one statement, keeping stored fields the input leaves out.
    /// Returns its row and whether it is new (`xmax = 0` only for a row this statement inserted).
    static func upsertSubscriber(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, _ input: SubscriberInput, now: Date)
        async throws -> (Int64, Bool)
    {
        let data = input.data.map { JSONCoding.encodeText($0) }
        // Quiet hours distinguish "leave as is" (nil) from "remove" (.some(nil)).
        let changesQuietHours = input.quietHours != nil
        let quietHours = (input.quietHours ?? nil).map { JSONCoding.encodeText($0) }
        let nowMS = ms(now)
        let row = try await connection.rows(
            """
            INSERT INTO subscribers AS s (tenant_id, id, name, email, phone, locale, timezone, data, quiet_hours, created_at, updated_at)
            VALUES (\(tenantID), \(input.id), \(input.name), \(input.email), \(input.phone), \(input.locale), \(input.timezone), \(data),
                    \(quietHours), \(nowMS), \(nowMS))
            ON CONFLICT (tenant_id, id) DO UPDATE SET name = coalesce(excluded.name, s.name), email = coalesce(excluded.email, s.email),
                phone = coalesce(excluded.phone, s.phone), locale = coalesce(excluded.locale, s.locale),
                timezone = coalesce(excluded.timezone, s.timezone), data = coalesce(excluded.data, s.data),
                quiet_hours = CASE WHEN \(changesQuietHours) THEN excluded.quiet_hours ELSE s.quiet_hours END, updated_at = excluded.updated_at
            RETURNING s.pk, (s.xmax = 0)
            """, logger)[0]
        return (try row[0], try row[1])
    }

    public func upsertSubscribers(tenantID: String, _ inputs: [SubscriberInput]) async throws -> Int {
        try await write { connection in
            try await Self.upsertSubscribers(connection, logger, tenantID: tenantID, inputs, now: Date()).values.filter(\.created).count
        }
    }

    /// Upserts many subscribers as ``upsertSubscriber(_:_:tenantID:_:now:)`` does one, in order, by id: their keys
    /// and whether each is new. Distinct ids go as one multi-row statement per `SQLValues` chunk, instead of a round
    /// trip each (a trigger to ten inline recipients was ten); an id given twice is applied in order, one at a time.
    static func upsertSubscribers(
        _ connection: PostgresConnection, _ logger: Logger, tenantID: String, _ inputs: [SubscriberInput], now: Date
    ) async throws -> [String: (pk: Int64, created: Bool)] {
        var result: [String: (pk: Int64, created: Bool)] = [:]
        guard Set(inputs.map(\.id)).count == inputs.count else {
            for input in inputs {
                let (pk, created) = try await upsertSubscriber(connection, logger, tenantID: tenantID, input, now: now)
                result[input.id] = (pk, created || result[input.id]?.created == true)
            }
            return result
        }
        let nowMS = ms(now)
        let perStatement = SQLValues.rowsPerStatement(columns: 9)
        for start in stride(from: 0, to: inputs.count, by: perStatement) {
            var shared = PostgresBindings()
            shared.append(tenantID)
            shared.append(nowMS)
            var values = SQLValues(types: ["text", "text", "text", "text", "text", "text", "text", "text", "boolean"], after: shared)
            for input in inputs[start..<min(start + perStatement, inputs.count)] {
                values.append { row in
                    row.bind(input.id)
                    row.bind(input.name)
                    row.bind(input.email)
                    row.bind(input.phone)
                    row.bind(input.locale)
                    row.bind(input.timezone)
                    row.bind(input.data.map { JSONCoding.encodeText($0) })
                    row.bind((input.quietHours ?? nil).map { JSONCoding.encodeText($0) })
                    row.bind(input.quietHours != nil)
                }
            }
            let rows = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        WITH input(id, name, email, phone, locale, timezone, data, quiet_hours, changes_quiet_hours) AS (VALUES \(values.sql))
                        INSERT INTO subscribers AS s (tenant_id, id, name, email, phone, locale, timezone, data, quiet_hours, created_at, updated_at)
                        SELECT $1, id, name, email, phone, locale, timezone, data, quiet_hours, $2, $2 FROM input
                        ON CONFLICT (tenant_id, id) DO UPDATE SET name = coalesce(excluded.name, s.name), email = coalesce(excluded.email, s.email),
                            phone = coalesce(excluded.phone, s.phone), locale = coalesce(excluded.locale, s.locale),
                            timezone = coalesce(excluded.timezone, s.timezone), data = coalesce(excluded.data, s.data),
                            quiet_hours = CASE WHEN (SELECT i.changes_quiet_hours FROM input i WHERE i.id = excluded.id)
                                THEN excluded.quiet_hours ELSE s.quiet_hours END,
                            updated_at = excluded.updated_at
                        RETURNING s.id, s.pk, (s.xmax = 0)
                        """, binds: values.bindings), logger)
            for row in rows { result[try row[0]] = (try row[1], try row[2]) }
        }
        return result
    }

    public func subscriber(tenantID: String, id: String) async throws -> Subscriber? {
        try await read { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.subscriberColumns) FROM subscribers s WHERE tenant_id = \(tenantID) AND id = \(id)", logger
            ).first.map { try Self.subscriber(from: $0, at: 0) }
        }
    }

    public func subscribers(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Subscriber> {
        try await read { connection in
            let rows = try await connection.rows(
                """
                SELECT s.pk, \(unescaped: Self.subscriberColumns) FROM subscribers s
                WHERE tenant_id = \(tenantID) AND pk > \(cursor ?? 0) ORDER BY pk LIMIT \(limit + 1)
                """, logger)
            let items = try rows.prefix(limit).map { try Self.subscriber(from: $0, at: 1) }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
    }

    /// The advisory lock between a tenant's fan-out chunks (shared) and the deletion of one of its subscribers.
    static func membersLockKey(tenantID: String) -> String { "members:" + tenantID }

    public func deleteSubscriber(tenantID: String, id: String) async throws -> Bool {
        try await write { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: id) else { return false }
            // Waits for the tenant's fan-out chunks being written, and they for this: a chunk checks its members after
            // this deletion commits, or writes before it and its messages are deleted here.
            try await connection.run("SELECT pg_advisory_xact_lock(hashtext(\(Self.membersLockKey(tenantID: tenantID))))", logger)
            // Messages are not tied to the subscriber by a foreign key (it would cost every queue insert a lookup),
            // so a subscriber's messages go explicitly: deleting a person removes what was kept about them.
            // Runs first: on PostgreSQL this waits for a runner advancing one, so the messages it planned go too.
            try await connection.run("DELETE FROM workflow_runs WHERE subscriber_pk = \(pk)", logger)
            // No foreign key points into the partitioned history (PartitionedHistory): what hangs off the messages goes with them.
            try await connection.run(
                """
                WITH gone AS (DELETE FROM messages WHERE subscriber_pk = \(pk) RETURNING id, event_pk),
                attempts_gone AS (DELETE FROM attempts a USING gone WHERE a.message_id = gone.id),
                queue_gone AS (DELETE FROM queue q USING gone WHERE q.message_id = gone.id)
                DELETE FROM email_feedback f USING gone WHERE f.message_id = gone.id
                """, logger)
            try await connection.run("DELETE FROM subscribers WHERE pk = \(pk)", logger)
            return true
        }
    }

    public func preferences(tenantID: String, subscriberID: String) async throws -> [PreferenceRule]? {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return nil }
            return try await connection.rows(
                """
                SELECT event_type, channel, enabled, unsubscribed, digest FROM preferences WHERE subscriber_pk = \(pk)
                ORDER BY event_type COLLATE "C", channel COLLATE "C"
                """, logger
            ).map {
                PreferenceRule(
                    eventType: try $0[0], channel: try $0[1], enabled: try $0[2], unsubscribed: try $0[3],
                    digest: Self.decodeJSON(DigestSpec.self, try $0[4]))
            }
        }
    }

    public func setPreferences(tenantID: String, subscriberID: String, _ rules: [PreferenceRule], replace: Bool) async throws -> Bool {
        try await write { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return false }
            if replace { try await connection.run("DELETE FROM preferences WHERE subscriber_pk = \(pk)", logger) }
            for rule in rules {
                try await connection.run(
                    """
                    INSERT INTO preferences(subscriber_pk, event_type, channel, enabled, unsubscribed, digest)
                    VALUES (\(pk), \(rule.eventType), \(rule.channel), \(rule.enabled), \(rule.unsubscribed), \(rule.digest.map(JSONCoding.encodeText)))
                    ON CONFLICT (subscriber_pk, event_type, channel) DO UPDATE
                    SET enabled = excluded.enabled, unsubscribed = excluded.unsubscribed, digest = excluded.digest
                    """, logger)
            }
            return true
        }
    }

    public func tenantPreferences(tenantID: String) async throws -> [PreferenceRule] {
        try await read { connection in try await Self.tenantPreferences(connection, logger, tenantID: tenantID) }
    }

    static func tenantPreferences(_ connection: PostgresConnection, _ logger: Logger, tenantID: String) async throws -> [PreferenceRule] {
        try await connection.rows(
            """
            SELECT event_type, channel, enabled FROM tenant_preferences WHERE tenant_id = \(tenantID)
            ORDER BY event_type COLLATE "C", channel COLLATE "C"
            """, logger
        ).map { PreferenceRule(eventType: try $0[0], channel: try $0[1], enabled: try $0[2]) }
    }

    public func setTenantPreferences(tenantID: String, _ rules: [PreferenceRule], replace: Bool) async throws {
        try await write { connection in
            if replace { try await connection.run("DELETE FROM tenant_preferences WHERE tenant_id = \(tenantID)", logger) }
            for rule in rules {
                try await connection.run(
                    """
                    INSERT INTO tenant_preferences(tenant_id, event_type, channel, enabled) VALUES (\(tenantID), \(rule.eventType), \(rule.channel), \(rule.enabled))
                    ON CONFLICT (tenant_id, event_type, channel) DO UPDATE SET enabled = excluded.enabled
                    """, logger)
            }
        }
    }

    /// Recipients with their preference rules for the given subscriber rows (pk, then subscriber columns
    /// from `subscriberOffset`), in one query for all their rules.
    static func recipients(_ connection: PostgresConnection, _ logger: Logger, rows: [SQLRow], subscriberOffset: Int, eventType: String)
        async throws -> [RecipientRecord]
    {
        guard !rows.isEmpty else { return [] }
        var records: [RecipientRecord] = try rows.map { row in
            RecipientRecord(rowID: try row[0], subscriber: try subscriber(from: row, at: subscriberOffset), rules: [])
        }
        var index: [Int64: Int] = [:]
        for (position, record) in records.enumerated() { index[record.rowID] = position }
        let pks = records.map(\.rowID)
        for rule in try await connection.rows(
            """
            SELECT subscriber_pk, event_type, channel, enabled, unsubscribed, digest FROM preferences
            WHERE subscriber_pk = ANY(\(pks)) AND event_type IN (\(eventType), '*')
            """, logger)
        {
            if let position = index[try rule[0]] {
                records[position].rules.append(
                    PreferenceRule(
                        eventType: try rule[1], channel: try rule[2], enabled: try rule[3], unsubscribed: try rule[4],
                        digest: decodeJSON(DigestSpec.self, try rule[5])))
            }
        }
        return records
    }
}

// MARK: - Topics

extension PostgresStore {
    public func upsertTopic(tenantID: String, key: String, name: String?) async throws -> Topic {
        try await write { connection in
            try await connection.run(
                """
                INSERT INTO topics AS t (tenant_id, key, name, created_at) VALUES (\(tenantID), \(key), \(name), \(Self.ms(Date())))
                ON CONFLICT (tenant_id, key) DO UPDATE SET name = coalesce(excluded.name, t.name)
                """, logger)
            return try await Self.topic(connection, logger, tenantID: tenantID, key: key)!
        }
    }

    public func topic(tenantID: String, key: String) async throws -> Topic? {
        try await read { connection in try await Self.topic(connection, logger, tenantID: tenantID, key: key) }
    }

    static func topic(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, key: String) async throws -> Topic? {
        guard
            let row = try await connection.rows(
                """
                SELECT t.key, t.name, t.created_at, (SELECT count(*) FROM topic_members m WHERE m.topic_pk = t.pk)
                FROM topics t WHERE tenant_id = \(tenantID) AND key = \(key)
                """, logger
            ).first
        else { return nil }
        return Topic(key: try row[0], name: try row[1], memberCount: try row[3], createdAt: date(try row[2]))
    }

    public func topics(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Topic> {
        try await read { connection in
            let rows = try await connection.rows(
                """
                SELECT t.pk, t.key, t.name, t.created_at, (SELECT count(*) FROM topic_members m WHERE m.topic_pk = t.pk)
                FROM topics t WHERE tenant_id = \(tenantID) AND pk > \(cursor ?? 0) ORDER BY pk LIMIT \(limit + 1)
                """, logger)
            let items = try rows.prefix(limit).map {
                Topic(key: try $0[1], name: try $0[2], memberCount: try $0[4], createdAt: Self.date(try $0[3]))
            }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
    }

    public func deleteTopic(tenantID: String, key: String) async throws -> Bool {
        try await write { connection in
            try await connection.count("DELETE FROM topics WHERE tenant_id = \(tenantID) AND key = \(key) RETURNING pk", logger) > 0
        }
    }

    public func addTopicMembers(tenantID: String, topic: String, members: [Recipient]) async throws -> Int {
        try await write { connection in
            guard let topicPK = try await Self.topicPK(connection, logger, tenantID: tenantID, key: topic) else {
                throw HeraldError.notFound("topic '\(topic)'")
            }
            let ids = members.compactMap { member -> String? in
                if case .subscriber(let id) = member { return id }
                return nil
            }
            var known: [String: Int64] = [:]
            if !ids.isEmpty {
                for row in try await connection.rows(
                    "SELECT id, pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = ANY(\(ids))", logger)
                {
                    known[try row[0]] = try row[1]
                }
            }
            var pks: [Int64] = []
            var unknown: [FieldError] = []
            let now = Date()
            for (position, member) in members.enumerated() {
                switch member {
                case .inline(let input):
                    pks.append(try await Self.upsertSubscriber(connection, logger, tenantID: tenantID, input, now: now).0)
                case .subscriber(let id):
                    guard let pk = known[id] else {
                        unknown.append(FieldError("subscribers[\(position)]", "no subscriber '\(id)' in this tenant; give it inline to create it"))
                        continue
                    }
                    pks.append(pk)
                case .topic:
                    unknown.append(FieldError("subscribers[\(position)]", "a topic cannot be a member of a topic"))
                }
            }
            // Throwing rolls the transaction back, so a request naming an unknown subscriber adds no one.
            if !unknown.isEmpty { throw HeraldError.invalid(Array(unknown.prefix(20))) }
            guard !pks.isEmpty else { return 0 }
            return try await connection.count(
                """
                INSERT INTO topic_members(topic_pk, subscriber_pk) SELECT \(topicPK), pk FROM unnest(\(pks)) AS u(pk)
                ON CONFLICT DO NOTHING RETURNING subscriber_pk
                """, logger)
        }
    }

    public func removeTopicMembers(tenantID: String, topic: String, subscriberIDs: [String]) async throws -> Int {
        try await write { connection in
            guard let topicPK = try await Self.topicPK(connection, logger, tenantID: tenantID, key: topic) else {
                throw HeraldError.notFound("topic '\(topic)'")
            }
            return try await connection.count(
                """
                DELETE FROM topic_members WHERE topic_pk = \(topicPK)
                AND subscriber_pk IN (SELECT pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = ANY(\(subscriberIDs)))
                RETURNING subscriber_pk
                """, logger)
        }
    }

    public func topicMembers(tenantID: String, topic: String, cursor: Int64?, limit: Int) async throws -> Page<String>? {
        try await read { connection in
            guard let topicPK = try await Self.topicPK(connection, logger, tenantID: tenantID, key: topic) else { return nil }
            let rows = try await connection.rows(
                """
                SELECT m.subscriber_pk, s.id FROM topic_members m JOIN subscribers s ON s.pk = m.subscriber_pk
                WHERE m.topic_pk = \(topicPK) AND m.subscriber_pk > \(cursor ?? 0) ORDER BY m.subscriber_pk LIMIT \(limit + 1)
                """, logger)
            let items: [String] = try rows.prefix(limit).map { try $0[1] }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
    }

    static func topicPK(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, key: String) async throws -> Int64? {
        try await connection.rows("SELECT pk FROM topics WHERE tenant_id = \(tenantID) AND key = \(key)", logger).first.map { try $0[0] }
    }
}

extension PostgresStore {
    public func plannerInputs(tenantID: String, subscriberRowIDs: [Int64], eventType: String) async throws -> PlannerInputs {
        try await read { connection in
            let rows = try await connection.rows(
                "SELECT s.pk, \(unescaped: Self.subscriberColumns) FROM subscribers s WHERE s.tenant_id = \(tenantID) AND s.pk = ANY(\(subscriberRowIDs))",
                logger)
            var recipients: [Int64: RecipientRecord] = [:]
            for record in try await Self.recipients(connection, logger, rows: rows, subscriberOffset: 1, eventType: eventType) {
                recipients[record.rowID] = record
            }
            let tenant = try await Self.planningTenant(connection, logger, tenantID: tenantID)
            return PlannerInputs(
                recipients: recipients, preferences: PreferenceResolver(tenantRules: tenant.rules), email: tenant.email,
                destinations: tenant.destinations)
        }
    }
}
