/// Who an event type notifies when a trigger names no recipients: topics, and subscriber ids read from
/// payload fields (`assignee_id`, `reporter_id`), so an app can publish `issue_assigned` without choosing
/// recipients itself. Recipients named in a trigger replace the audience.
public struct AudienceSpec: Sendable, Codable, Hashable {
    public var topics: [String]
    /// Payload fields holding a subscriber id, or an array of them.
    public var subscriberFields: [String]

    public init(topics: [String] = [], subscriberFields: [String] = []) {
        self.topics = topics
        self.subscriberFields = subscriberFields
    }

    enum CodingKeys: String, CodingKey {
        case topics
        case subscriberFields = "subscriber_fields"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        topics = try container.decodeIfPresent([String].self, forKey: .topics) ?? []
        subscriberFields = try container.decodeIfPresent([String].self, forKey: .subscriberFields) ?? []
    }

    public func problems(prefix: String = "audience") -> [FieldError] {
        var problems: [FieldError] = []
        if topics.isEmpty && subscriberFields.isEmpty {
            problems.append(FieldError(prefix, "name topics, subscriber_fields or both"))
        }
        for (index, field) in subscriberFields.enumerated() where field.isEmpty {
            problems.append(FieldError("\(prefix).subscriber_fields[\(index)]", "must not be empty"))
        }
        for (index, topic) in topics.enumerated() where topic.isEmpty {
            problems.append(FieldError("\(prefix).topics[\(index)]", "must not be empty"))
        }
        return problems
    }

    /// The recipients for a payload: each field's subscriber id (or ids), then the topics, without repeats.
    /// Fields that are absent or null are skipped; the event then reaches whoever else is named.
    public func recipients(payload: [String: JSONValue]) -> [Recipient] {
        var recipients: [Recipient] = []
        var seen: Set<String> = []
        func add(_ value: JSONValue) {
            switch value {
            case .string(let id) where !id.isEmpty:
                if seen.insert(id).inserted { recipients.append(.subscriber(id)) }
            case .number(let number) where number.rounded() == number:
                let id = String(Int64(number))
                if seen.insert(id).inserted { recipients.append(.subscriber(id)) }
            case .array(let values):
                values.forEach(add)
            default: break
            }
        }
        for field in subscriberFields { if let value = payload[field] { add(value) } }
        for topic in topics { recipients.append(.topic(topic)) }
        return recipients
    }
}
