import Foundation
import GRDB

extension SQLiteStore {
    public func upsertTopic(tenantID: String, key: String, name: String?) async throws -> Topic {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO topics(tenant_id, key, name, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(tenant_id, key) DO UPDATE SET name = coalesce(excluded.name, topics.name)
                    """, arguments: [tenantID, key, name, Self.ms(Date())])
            return try Self.topic(db, tenantID: tenantID, key: key)!
        }
    }

    public func topic(tenantID: String, key: String) async throws -> Topic? {
        try await pool.read { db in try Self.topic(db, tenantID: tenantID, key: key) }
    }

    static func topic(_ db: Database, tenantID: String, key: String) throws -> Topic? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT pk, key, name, created_at FROM topics WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
        else { return nil }
        let pk: Int64 = row[0]
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM topic_members WHERE topic_pk = ?", arguments: [pk]) ?? 0
        return Topic(key: row[1], name: row[2], memberCount: count, createdAt: date(row[3]))
    }

    public func topics(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Topic> {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.pk, t.key, t.name, t.created_at, (SELECT count(*) FROM topic_members m WHERE m.topic_pk = t.pk)
                    FROM topics t WHERE tenant_id = ? AND pk > ? ORDER BY pk LIMIT ?
                    """, arguments: [tenantID, cursor ?? 0, limit + 1])
            let items = rows.prefix(limit).map { Topic(key: $0[1], name: $0[2], memberCount: $0[4], createdAt: Self.date($0[3])) }
            return Page(items: Array(items), nextCursor: rows.count > limit ? Cursor.encode(rows[limit - 1][0]) : nil)
        }
    }

    public func deleteTopic(tenantID: String, key: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM topics WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
            return db.changesCount > 0
        }
    }

    public func addTopicMembers(tenantID: String, topic: String, members: [Recipient]) async throws -> Int {
        try await pool.write { db in
            guard let topicPK = try Self.topicPK(db, tenantID: tenantID, key: topic) else { throw HeraldError.notFound("topic '\(topic)'") }
            let lookup = try db.cachedStatement(sql: "SELECT pk FROM subscribers WHERE tenant_id = ? AND id = ?")
            let insert = try db.cachedStatement(sql: "INSERT INTO topic_members(topic_pk, subscriber_pk) VALUES (?, ?) ON CONFLICT DO NOTHING")
            var added = 0
            var unknown: [FieldError] = []
            let now = Date()
            for (position, member) in members.enumerated() {
                let pk: Int64
                switch member {
                case .inline(let input):
                    pk = try Self.upsertSubscriber(db, tenantID: tenantID, input, now: now).0
                case .subscriber(let id):
                    guard let found = try Int64.fetchOne(lookup, arguments: [tenantID, id]) else {
                        unknown.append(FieldError("subscribers[\(position)]", "no subscriber '\(id)' in this tenant; give it inline to create it"))
                        continue
                    }
                    pk = found
                case .topic:
                    unknown.append(FieldError("subscribers[\(position)]", "a topic cannot be a member of a topic"))
                    continue
                }
                try insert.execute(arguments: [topicPK, pk])
                added += db.changesCount
            }
            // Throwing rolls the transaction back, so a request naming an unknown subscriber adds no one.
            if !unknown.isEmpty { throw HeraldError.invalid(Array(unknown.prefix(20))) }
            return added
        }
    }

    public func removeTopicMembers(tenantID: String, topic: String, subscriberIDs: [String]) async throws -> Int {
        try await pool.write { db in
            guard let topicPK = try Self.topicPK(db, tenantID: tenantID, key: topic) else { throw HeraldError.notFound("topic '\(topic)'") }
            let delete = try db.cachedStatement(
                sql: "DELETE FROM topic_members WHERE topic_pk = ? AND subscriber_pk = (SELECT pk FROM subscribers WHERE tenant_id = ? AND id = ?)")
            var removed = 0
            for id in subscriberIDs {
                try delete.execute(arguments: [topicPK, tenantID, id])
                removed += db.changesCount
            }
            return removed
        }
    }

    public func topicMembers(tenantID: String, topic: String, cursor: Int64?, limit: Int) async throws -> Page<String>? {
        try await pool.read { db in
            guard let topicPK = try Self.topicPK(db, tenantID: tenantID, key: topic) else { return nil }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.subscriber_pk, s.id FROM topic_members m JOIN subscribers s ON s.pk = m.subscriber_pk
                    WHERE m.topic_pk = ? AND m.subscriber_pk > ? ORDER BY m.subscriber_pk LIMIT ?
                    """, arguments: [topicPK, cursor ?? 0, limit + 1])
            let items: [String] = rows.prefix(limit).map { $0[1] }
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(rows[limit - 1][0]) : nil)
        }
    }

    static func topicPK(_ db: Database, tenantID: String, key: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT pk FROM topics WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
    }
}
