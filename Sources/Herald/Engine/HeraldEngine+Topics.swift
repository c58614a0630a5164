extension HeraldEngine {
    public func upsertTopic(tenantID: String, key: String, name: String?) async throws -> Topic {
        guard Self.isValidTopicKey(key) else {
            throw HeraldError.invalid("key", "must be 1 to 128 letters, digits, '-', '_', ':' or '.'")
        }
        return try await store.upsertTopic(tenantID: tenantID, key: key, name: name)
    }

    public func topic(tenantID: String, key: String) async throws -> Topic {
        guard let topic = try await store.topic(tenantID: tenantID, key: key) else { throw HeraldError.notFound("topic '\(key)'") }
        return topic
    }

    public func topics(tenantID: String, cursor: String?, limit: Int) async throws -> Page<Topic> {
        try await store.topics(tenantID: tenantID, cursor: try Cursor.decode(cursor), limit: limit)
    }

    public func deleteTopic(tenantID: String, key: String) async throws {
        guard try await store.deleteTopic(tenantID: tenantID, key: key) else { throw HeraldError.notFound("topic '\(key)'") }
    }

    /// Adds members by id, or inline (`SubscriberInput`, upserted first); up to 10,000 per call, all or none.
    public func addTopicMembers(tenantID: String, key: String, members: [Recipient]) async throws -> Int {
        guard members.count <= 10_000 else { throw HeraldError.invalid("subscribers", "at most 10000 per request") }
        var errors: [FieldError] = []
        for (index, member) in members.enumerated() {
            if case .inline(let input) = member { errors += SubscriberValidator.problems(input, policy: configuration.outbound.policy).prefixed("subscribers[\(index)]") }
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
        return try await store.addTopicMembers(tenantID: tenantID, topic: key, members: members)
    }

    public func addTopicMembers(tenantID: String, key: String, subscriberIDs: [String]) async throws -> Int {
        try await addTopicMembers(tenantID: tenantID, key: key, members: subscriberIDs.map(Recipient.subscriber))
    }

    public func removeTopicMembers(tenantID: String, key: String, subscriberIDs: [String]) async throws -> Int {
        guard try await store.topic(tenantID: tenantID, key: key) != nil else { throw HeraldError.notFound("topic '\(key)'") }
        return try await store.removeTopicMembers(tenantID: tenantID, topic: key, subscriberIDs: subscriberIDs)
    }

    public func topicMembers(tenantID: String, key: String, cursor: String?, limit: Int) async throws -> Page<String> {
        guard let page = try await store.topicMembers(tenantID: tenantID, topic: key, cursor: try Cursor.decode(cursor), limit: limit) else {
            throw HeraldError.notFound("topic '\(key)'")
        }
        return page
    }

    static func isValidTopicKey(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 128
            && key.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_:.".unicodeScalars.contains($0))
            }
    }
}
