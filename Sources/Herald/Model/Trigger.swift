import Foundation

/// One request to notify: an event type, its recipients and its payload.
public struct Trigger: Sendable, Codable, Hashable {
    public var type: String
    public var recipients: [Recipient]
    public var payload: [String: JSONValue]
    /// Who caused the event (a user id, "system"); shown in the activity log.
    public var actor: String?
    /// Deliver no earlier than this time.
    public var sendAt: Date?
    /// Deliver this long after the trigger is accepted (`90s`, `15m`, `2h`, `1d`, or seconds as a
    /// number); the engine turns it into `sendAt`. Give one of `delay` and `sendAt`, not both.
    public var delay: String?
    /// Names a workflow the event belongs to (`invoice-42-reminders`), so that all its pending messages
    /// can be cancelled at once when it no longer matters (the invoice was paid).
    public var cancellationKey: String?
    /// Files for the event's emails, stored with the event so every recipient and every retry gets the
    /// same bytes: inline base64 `content`, or a `url` fetched once when the trigger is accepted.
    public var attachments: [Attachment] = []

    public init(type: String, recipients: [Recipient], payload: [String: JSONValue] = [:], actor: String? = nil, sendAt: Date? = nil) {
        self.type = type
        self.recipients = recipients
        self.payload = payload
        self.actor = actor
        self.sendAt = sendAt
    }

    /// A delay given as a number of seconds: up to a year and a day, as far ahead as `send_at` may be.
    public static let delayRule = NumberRule.seconds(0.001...(366 * 86_400))

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, recipients, to, payload, actor
        case sendAt = "send_at"
        case delay
        case cancellationKey = "cancellation_key"
        case attachments
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.type = try container.decode(String.self, forKey: .type)
        // Without recipients, the event type's audience (routing in the catalog) decides; the engine
        // refuses a trigger that has neither.
        if container.contains(.recipients) {
            self.recipients = try container.decode([Recipient].self, forKey: .recipients)
        } else if container.contains(.to) {
            self.recipients = try container.decode([Recipient].self, forKey: .to)
        } else {
            self.recipients = []
        }
        self.payload = try container.decodeIfPresent([String: JSONValue].self, forKey: .payload) ?? [:]
        self.actor = try container.decodeIfPresent(String.self, forKey: .actor)
        self.sendAt = try container.decodeIfPresent(Date.self, forKey: .sendAt)
        if let text = try? container.decodeIfPresent(String.self, forKey: .delay) {
            self.delay = text
            // `"1e300"` or `"99999999d"` is a duration, but not one to wait: the same bound as a number.
            if let seconds = DurationText.seconds(text), let reason = Self.delayRule.problem(seconds) {
                throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [CodingKeys.delay], debugDescription: reason))
            }
        } else {
            self.delay = try container.decodeIfPresent(Double.self, forKey: .delay, within: Self.delayRule).map { String($0) }
        }
        self.cancellationKey = try container.decodeIfPresent(String.self, forKey: .cancellationKey)
        self.attachments = try container.decodeIfPresent([Attachment].self, forKey: .attachments) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(recipients, forKey: .recipients)
        try container.encode(payload, forKey: .payload)
        try container.encodeIfPresent(actor, forKey: .actor)
        try container.encodeIfPresent(sendAt, forKey: .sendAt)
        try container.encodeIfPresent(delay, forKey: .delay)
        try container.encodeIfPresent(cancellationKey, forKey: .cancellationKey)
        if !attachments.isEmpty { try container.encode(attachments, forKey: .attachments) }
    }
}
