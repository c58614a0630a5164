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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case topics
        case subscriberFields = "subscriber_fields"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
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

    /// Numbers taken as subscriber ids: whole, and within ±(2^53 − 1), where JSON numbers (doubles) still
    /// hold every whole number; past it `9007199254740993` would silently become another subscriber's id.
    public static let idRule = NumberRule.whole(-(NumberRule.maximumWhole - 1)...(NumberRule.maximumWhole - 1))

    /// Payload values in the audience's fields that cannot name a subscriber: a number that is not a whole
    /// number within ±2^53 (`1e300`, `1.5`, `9.3e18`). Named `payload.<field>` (`payload.<field>[i]` in an
    /// array), for the 422 a trigger gets before anything is written.
    public func problems(payload: [String: JSONValue]) -> [FieldError] {
        var problems: [FieldError] = []
        func check(_ value: JSONValue, _ field: String) {
            switch value {
            case .number(let number):
                if Self.subscriberID(number) == nil {
                    problems.append(FieldError(field, "holds a subscriber id for the audience, so a number here must be \(Self.idRule.description)"))
                }
            case .array(let values):
                for (index, value) in values.enumerated() { check(value, "\(field)[\(index)]") }
            default: break
            }
        }
        for field in subscriberFields { if let value = payload[field] { check(value, "payload.\(field)") } }
        return problems
    }

    /// A numeric payload value as a subscriber id (`42` for 42.0), or nil when it is not a whole number
    /// within ``idRule``.
    static func subscriberID(_ number: Double) -> String? {
        Self.idRule.wholeValue(number).map { String($0) }
    }

    /// The recipients for a payload: each field's subscriber id (or ids), then the topics, without repeats.
    /// Fields that are absent or null are skipped; the event then reaches whoever else is named. Numbers
    /// that cannot be ids are skipped too: ``problems(payload:)`` refuses them first.
    public func recipients(payload: [String: JSONValue]) -> [Recipient] {
        var recipients: [Recipient] = []
        var seen: Set<String> = []
        func add(_ value: JSONValue) {
            switch value {
            case .string(let id) where !id.isEmpty:
                if seen.insert(id).inserted { recipients.append(.subscriber(id)) }
            case .number(let number):
                if let id = Self.subscriberID(number), seen.insert(id).inserted { recipients.append(.subscriber(id)) }
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
