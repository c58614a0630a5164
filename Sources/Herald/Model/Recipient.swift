/// Who a trigger is for: a known subscriber, a subscriber given inline (upserted first), or a topic.
public enum Recipient: Sendable, Hashable {
    case subscriber(String)
    case inline(SubscriberInput)
    case topic(String)
}

extension Recipient: Codable {
    enum CodingKeys: String, CodingKey { case subscriberId = "subscriber_id", topic }

    /// Accepts `"u1"`, `{"subscriber_id": "u1"}`, `{"topic": "residents"}` or an inline subscriber `{"id": "u1", "email": …}`.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer(), let id = try? container.decode(String.self) {
            self = .subscriber(id)
            return
        }
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        if let topic = try keyed.decodeIfPresent(String.self, forKey: .topic) {
            try decoder.refuseUnknownKeys(allowing: [CodingKeys.topic.stringValue])
            self = .topic(topic)
        } else if let id = try keyed.decodeIfPresent(String.self, forKey: .subscriberId) {
            try decoder.refuseUnknownKeys(allowing: [CodingKeys.subscriberId.stringValue])
            self = .subscriber(id)
        } else {
            // The inline form's fields are checked by `SubscriberInput` itself.
            self = .inline(try SubscriberInput(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .subscriber(let id):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .subscriberId)
        case .topic(let key):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .topic)
        case .inline(let input):
            try input.encode(to: encoder)
        }
    }
}
